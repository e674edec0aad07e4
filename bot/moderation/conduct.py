"""Conduct: abuse and profanity from the editable word list.

Matching is by whole word (token), never by substring, which is what avoids the
Scunthorpe problem (Scunthorpe, assessment, class, cocktail, therapist are all fine).
People dodge filters with leetspeak (sh1t, @ss, $hit), spacing (s h i t, s.h.i.t,
c. u. n. t., even after a one-letter word: "you're a c u n t"),
stretching (shiiiit) and self-censoring (sh*t), so each token is tried in those readings.
"""

from __future__ import annotations

import functools
import itertools
import re

from bot.moderation.detectors import Finding
from bot.moderation.wordlist import WordList

__all__ = ["detect_abuse"]

REASON = "abusive or profane language"

_TOKEN = re.compile(r"[A-Za-z0-9@$!|*+']+")
# Single characters joined by one or two separators, three or more of them: "s h i t",
# "s.h.i.t", "c. u. n. t.", "c  u  n  t".
_SPACED = re.compile(
    r"(?<![A-Za-z0-9@$])(?:[A-Za-z0-9@$!|][ .\-_*~]{1,2}){2,}[A-Za-z0-9@$!|](?![A-Za-z0-9@$])"
)
_SEPARATORS = re.compile(r"[ .\-_*~]")
# One-letter words that may stand just before a spaced-out word: "you are a c u n t".
_ONE_LETTER_WORDS = frozenset("aAiI")
_LEET: dict[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("i", "l"), "3": ("e",), "4": ("a",), "5": ("s",), "7": ("t",),
    "8": ("b",), "9": ("g",), "@": ("a",), "$": ("s",), "!": ("i",), "|": ("i", "l"),
    "+": ("t",),
}
_STRETCH3 = re.compile(r"([a-z])\1{2,}")
_STRETCH2 = re.compile(r"([a-z])\1+")


def _readings(token: str) -> list[str]:
    """The plain-letter readings of one token (a few at most)."""
    token = token.lower().strip("'").strip("!|+")
    # "*" both ends is emphasis (*great*); trailing stars alone are self-censoring (f***).
    token = token.strip("*") if token.startswith("*") else token
    if not token or token.isdigit() or len(token) < 2:
        return []
    if token.isalpha():
        bases = [token]
    else:
        options = [_LEET.get(c, (c,)) for c in token]
        bases = ["".join(p) for p in itertools.islice(itertools.product(*options), 8)]
    out: list[str] = []
    for base in bases:
        base = base.replace("'", "")
        for form in (base, _STRETCH3.sub(r"\1\1", base), _STRETCH2.sub(r"\1", base)):
            if form not in out:
                out.append(form)
    return out


def _wild_eq(reading: str, root: str) -> bool:
    if len(reading) != len(root):
        return False
    return all(a in ("*", b) for a, b in zip(reading, root, strict=True))


def _star_match(reading: str, words: WordList) -> bool:
    """Self-censored spellings: "sh*t", "f**k", "f***" — each * stands for one letter."""
    if not reading[0].isalpha():
        return False
    return any(_wild_eq(reading, w) for w in words.words) or any(
        _wild_eq(reading[:len(p)], p) for p in words.prefixes)


@functools.lru_cache(maxsize=65536)
def _bad(token: str, words: WordList) -> bool:
    """Whether one token reads as a listed word. Cached: a chat's vocabulary repeats."""
    if token.lower() in words.allowed:
        return False
    for reading in _readings(token):
        if "*" in reading:
            if reading.replace("*", "") in words or _star_match(reading, words):
                return True
        elif reading in words:
            return True
    return False


# Each word list's verdicts on the tokens met so far: one dict look-up a token. Screening
# an import judges every message, and `_bad`'s cache hashes the word list on every call,
# which was most of what a clean message cost. Kept by the list's id (with the list, so an
# id reused by a new list is not mistaken for it) and cleared when it grows past the bound.
_VERDICTS: dict[int, tuple[WordList, dict[str, bool]]] = {}
_VERDICTS_KEPT = 65536


def _verdicts(words: WordList) -> dict[str, bool]:
    entry = _VERDICTS.get(id(words))
    if entry is None or entry[0] is not words:
        if len(_VERDICTS) > 16:
            _VERDICTS.clear()
        entry = _VERDICTS[id(words)] = (words, {})
    elif len(entry[1]) > _VERDICTS_KEPT:
        entry[1].clear()
    return entry[1]


def detect_abuse(text: str, words: WordList) -> list[Finding]:
    """Listed words and two-word phrases, also when disguised (see the module doc)."""
    verdicts = _verdicts(words)
    if not _anything(text, words, verdicts):
        return []
    found: list[Finding] = []
    previous: re.Match[str] | None = None
    for m in _TOKEN.finditer(text):
        token = m.group()
        bad = verdicts.get(token)
        if bad is None:
            bad = verdicts[token] = _bad(token, words)
        if bad:
            found.append(Finding("abuse", m.start(), m.end(), m.group(), REASON))
        elif (previous is not None and previous.group().lower() in words.phrase_heads
              and _phrase(previous.group(), m.group(), words)):
            found.append(Finding("abuse", previous.start(), m.end(),
                                 text[previous.start():m.end()], REASON))
        previous = m
    for m in _SPACED.finditer(text):
        start, joined = m.start(), _SEPARATORS.sub("", m.group())
        if not _bad(joined, words) and joined[0] in _ONE_LETTER_WORDS:
            # "a c u n t": the article is a word of its own; try the letters after it.
            start = m.start() + 1 + len(m.group()[1:]) - len(m.group()[1:].lstrip(" .-_*~"))
            joined = joined[1:]
        if _bad(joined, words) and not any(f.start <= start < f.end for f in found):
            found.append(Finding("abuse", start, m.end(), text[start:m.end()], REASON))
    found.sort(key=lambda f: f.start)
    return found


# A letter standing alone between separators: every spaced-out word ("s h i t") has one,
# and this finds it a few times faster than `_SPACED` finds the word.
_SPACED_HINT = re.compile(r"[ .\-_*~][A-Za-z0-9@$!|][ .\-_*~]")


def _anything(text: str, words: WordList, verdicts: dict[str, bool]) -> bool:
    """Whether `detect_abuse` may find anything: False only when it would find nothing.

    The clean message's path (most of an import's): its tokens as strings, each one look-up,
    and one cheap search for a spaced-out word; no match objects, no `_SPACED`.
    """
    heads = words.phrase_heads
    previous = ""
    for token in _TOKEN.findall(text):
        bad = verdicts.get(token)
        if bad is None:
            bad = verdicts[token] = _bad(token, words)
        if bad or (previous and previous.lower() in heads and _phrase(previous, token, words)):
            return True
        previous = token
    return _SPACED_HINT.search(text) is not None


def _phrase(first: str, second: str, words: WordList) -> bool:
    a, b = first.lower().strip("!|*+'"), second.lower().strip("!|*+'")
    return f"{a} {b}" in words.words
