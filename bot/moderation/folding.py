"""A scanning copy of a message: what the identifier detectors read, with offsets back.

Messages are stored as sent (only NFC), so `9\u200b4\u200b3…` with zero-width spaces
between the digits, `943\u2009476\u20095919` with thin spaces, `943–476–5919` with en
dashes, `943  476  5919` with two spaces or fullwidth `９４３` all show ten plain digits
on the page. The detectors read a folded copy instead: invisible format characters
dropped, every Unicode space (and tab) one plain space, runs of spaces one space, every
dash a hyphen, every decimal digit an ASCII digit, and compatibility forms (fullwidth
letters, `＠`) their plain letters. Each folded character remembers where it came from, so
a finding masks the right span of the original text, invisible characters included.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

__all__ = ["Folded", "fold"]

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d")


@dataclass(frozen=True)
class Folded:
    """The folded text and, per folded character, the original span it came from."""

    original: str
    text: str
    starts: tuple[int, ...] | None = None  # None: the folded text is the original
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind folded span [start, end)."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]

    def original_of(self, start: int, end: int) -> tuple[int, int, str]:
        """The original span behind folded span [start, end), and its text."""
        s, e = self.span(start, end)
        return s, e, self.original[s:e]


def _fold_char(char: str) -> str:
    """What one non-ASCII (or tab) character reads as; "" for an invisible one."""
    category = unicodedata.category(char)
    if category == "Cf":  # zero-width space and joiners, word joiner, BOM, soft hyphen, bidi
        return ""
    if category == "Zs" or char == "\t":
        return " "
    if char in _DASHES:
        return "-"
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    plain = unicodedata.normalize("NFKC", char)
    return plain if plain.isascii() else char


@functools.lru_cache(maxsize=64)  # detect_identifiers and each detector fold the same text
def fold(text: str) -> Folded:
    """The scanning copy of `text` (see the module doc)."""
    if text.isascii() and "  " not in text and "\t" not in text:
        return Folded(text, text)  # the common case: nothing to fold, offsets are the same
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, char in enumerate(text):
        plain = char if char.isascii() and char != "\t" else _fold_char(char)
        for piece in plain:
            if piece == " " and out and out[-1] == " ":
                ends[-1] = i + 1  # a run of spaces reads as one space
                continue
            out.append(piece)
            starts.append(i)
            ends.append(i + 1)
    return Folded(text, "".join(out), tuple(starts), tuple(ends))
