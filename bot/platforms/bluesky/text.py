"""Bluesky's text rules: grapheme length, UTF-8 byte offsets, and rich-text facets.

A post's `text` may hold at most 300 graphemes and 3,000 UTF-8 bytes (app.bsky.feed.post).
Links, mentions and hashtags are not found by the reader: the writer attaches *facets*,
each naming a span by UTF-8 **byte** offsets (`byteStart` inclusive, `byteEnd` exclusive)
and what it is (`#link` uri, `#mention` did, `#tag` without its `#`). An emoji before a
link moves the link's bytes by four, not one, which is why offsets are computed on the
encoded text and never on Python string indexes.

Grapheme counting covers what chat scripts contain (combining marks, variation selectors,
emoji with skin tones and ZWJ sequences, flags, keycaps, Hangul syllable blocks) without
the full UAX #29 tables; it never counts fewer clusters than Bluesky does for such text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.platforms.x.text import has_hashtag, with_hashtag

MAX_GRAPHEMES = 300
MAX_BYTES = 3000

_ZWJ = 0x200D
_EXTENDERS = {0xFE0E, 0xFE0F, 0x20E3}
_TRAILING_PUNCT = ".,;:!?)]}'\"»"
_URL_RE = re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@.])@([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
                         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)")
# A tag: # then up to 64 characters that are not space or punctuation, not all digits.
_TAG_RE = re.compile(r"(?<![\w#&])[#\uff03](\w{1,64})(?!\w)")

__all__ = ["MAX_BYTES", "MAX_GRAPHEMES", "Prepared", "bluesky_problem", "facets_for",
           "grapheme_count", "has_hashtag", "mentions", "prepare", "with_hashtag"]


def _extends(cp: int, ch: str) -> bool:
    return (cp in _EXTENDERS or unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F)


def _hangul_part(cp: int) -> bool:
    return 0x1160 <= cp <= 0x11FF  # medial vowels and final consonants join a syllable


def grapheme_count(text: str) -> int:
    """User-perceived characters, as Bluesky counts them against its 300 limit."""
    count = 0
    i, n = 0, len(text)
    while i < n:
        cp = ord(text[i])
        count += 1
        i += 1
        if cp == 0x0D and i < n and text[i] == "\n":
            i += 1
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF and i < n and 0x1F1E6 <= ord(text[i]) <= 0x1F1FF:
            i += 1  # a flag is two regional indicators
            continue
        while i < n:
            nxt = ord(text[i])
            if _extends(nxt, text[i]) or _hangul_part(nxt):
                i += 1
            elif nxt == _ZWJ:
                i += 2 if i + 1 < n else 1  # ZWJ glues the next character on
            else:
                break
    return count


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _byte_span(text: str, start: int, end: int) -> dict[str, int]:
    head = utf8_len(text[:start])
    return {"byteStart": head, "byteEnd": head + utf8_len(text[start:end])}


def _url_spans(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _URL_RE.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _TRAILING_PUNCT:
            end -= 1
        url = text[start:end]
        out.append((start, end, url if "://" in url else f"https://{url}"))
    return out


def facets_for(text: str, resolve: Callable[[str], str | None] | None = None
               ) -> list[dict[str, Any]]:
    """The richtext facets of `text`: links, #tags and @mentions.

    A mention gets a facet when `resolve` maps it to a DID; an unknown handle stays
    plain text, as the Bluesky app leaves it.
    """
    facets: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for start, end, uri in _url_spans(text):
        taken.append((start, end))
        facets.append({"index": _byte_span(text, start, end),
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]})

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for m in _TAG_RE.finditer(text):
        tag = m.group(1)
        if tag.isdigit() or not free(*m.span()):
            continue
        facets.append({"index": _byte_span(text, *m.span()),
                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    if resolve is not None:
        for m in _MENTION_RE.finditer(text):
            if not free(*m.span()):
                continue
            did = resolve(m.group(1).lower())
            if did:
                facets.append({"index": _byte_span(text, *m.span()), "features": [
                    {"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    facets.sort(key=lambda f: int(f["index"]["byteStart"]))
    return facets


def mentions(text: str) -> list[str]:
    """The handles @mentioned in `text`, lower-cased, in order."""
    return [m.group(1).lower() for m in _MENTION_RE.finditer(text)]


@dataclass(frozen=True)
class Prepared:
    """A post ready to send: text with the hashtag, its sizes, and what is wrong with it."""

    text: str
    graphemes: int
    bytes: int

    @property
    def problem(self) -> str | None:
        """Why the post is too long for Bluesky, or None when it fits."""
        if self.graphemes > MAX_GRAPHEMES:
            return (f"{self.graphemes} graphemes with the hashtag; Bluesky allows "
                    f"{MAX_GRAPHEMES}")
        if self.bytes > MAX_BYTES:
            return f"{self.bytes} bytes with the hashtag; Bluesky allows {MAX_BYTES}"
        return None


def bluesky_problem(text: str, hashtag: str, settings: Mapping[str, Any]) -> str | None:
    """The registry's length rule: why `text` cannot be one Bluesky post, or None."""
    post = prepare(text, hashtag)
    if post.graphemes > MAX_GRAPHEMES:
        size, unit, limit = post.graphemes, "graphemes", MAX_GRAPHEMES
    elif post.bytes > MAX_BYTES:
        size, unit, limit = post.bytes, "UTF-8 bytes", MAX_BYTES
    else:
        return None
    return (f"too long for bluesky: {size} {unit} with the hashtag, the limit is {limit}; "
            "shorten it")


def prepare(text: str, hashtag: str) -> Prepared:
    """`text` as it will be posted (hashtag appended when missing), measured."""
    full = with_hashtag(unicodedata.normalize("NFC", text.strip()), hashtag)
    return Prepared(full, grapheme_count(full), utf8_len(full))
