"""Word lists: the editable abuse/profanity list and the link deny list.

Both are plain text, one entry a line, `#` starts a comment, so a moderator can edit them
without learning a format. In the word list:

    twat          the word itself (also matched through leetspeak and spacing: tw@t, t w a t)
    fuck*         the word and anything it begins (fucking, fucker)
    !shitake      an allowed word, never reported even if an entry above would match it

The deny list holds domains; a domain also covers its subdomains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = ["DATA", "ListError", "WordList", "load_deny_domains", "load_wordlist", "parse_wordlist"]

DATA = resources.files("bot.moderation") / "data"
_ENTRY = re.compile(r"!?[a-z][a-z' -]*\*?")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}")


class ListError(ValueError):
    """A bad line in a word or domain list; the message is one line naming file:line."""


@dataclass(frozen=True)
class WordList:
    """An abuse word list: whole words, "begins with" prefixes, allowed words, phrases."""

    words: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    # Lengths of the prefixes, so a token is checked with a few slices, not a loop over all.
    prefix_lengths: tuple[int, ...] = field(default=())
    # Two-word entries ("piss off") are checked on word pairs starting with one of these.
    phrase_heads: frozenset[str] = frozenset()

    @classmethod
    def build(cls, words: set[str], prefixes: set[str], allowed: set[str]) -> WordList:
        """A list from its entries, with the lookup helpers worked out."""
        return cls(frozenset(words), frozenset(prefixes), frozenset(allowed),
                   tuple(sorted({len(p) for p in prefixes})),
                   frozenset(w.split()[0] for w in words if " " in w))

    def __contains__(self, word: str) -> bool:
        if word in self.allowed:
            return False
        if word in self.words:
            return True
        return any(word[:n] in self.prefixes for n in self.prefix_lengths if len(word) >= n)

    def roots(self) -> frozenset[str]:
        """Every listed word and prefix."""
        return self.words | self.prefixes


def parse_wordlist(text: str, source: str = "<word list>") -> WordList:
    """The word list in `text`; a bad entry is a ListError naming `source`:line."""
    words: set[str] = set()
    prefixes: set[str] = set()
    allowed: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip().lower()
        if not entry:
            continue
        if not _ENTRY.fullmatch(entry):
            raise ListError(
                f"{source}:{number}: {entry!r} is not a word list entry "
                "(letters, an optional trailing * for 'begins with', or !word to allow a word)"
            )
        if entry.startswith("!"):
            allowed.add(entry[1:].rstrip("*"))
        elif entry.endswith("*"):
            prefixes.add(entry[:-1])
        else:
            words.add(entry)
    return WordList.build(words, prefixes, allowed)


def load_wordlist(path: str | Path | None = None) -> WordList:
    """The list at `path`, or the bundled default list."""
    if path is None:
        return parse_wordlist((DATA / "wordlist.txt").read_text("utf-8"), "wordlist.txt")
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise ListError(f"{p}: cannot read the word list ({exc.strerror})") from None
    return parse_wordlist(text, str(p))


def parse_deny_domains(text: str, source: str = "<deny list>") -> frozenset[str]:
    """The domains in a deny list's `text`; a bad entry is a ListError naming `source`:line."""
    domains = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip().lower().rstrip(".")
        if not entry:
            continue
        entry = entry.removeprefix("*.")
        if not _DOMAIN.fullmatch(entry):
            raise ListError(f"{source}:{number}: {entry!r} is not a domain (example: spam.example)")
        domains.add(entry)
    return frozenset(domains)


def load_deny_domains(path: str | Path | None = None) -> frozenset[str]:
    """The deny list at `path`, or the bundled default list."""
    if path is None:
        return parse_deny_domains((DATA / "deny_domains.txt").read_text("utf-8"),
                                  "deny_domains.txt")
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise ListError(f"{p}: cannot read the deny list ({exc.strerror})") from None
    return parse_deny_domains(text, str(p))
