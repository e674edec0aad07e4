"""Display names screened like messages.

Each name is normalised, then checked for personal data, abuse and impersonation of the
people who run the chat.

A name is shown beside every message, indexed and published in every transcript format, so
`NHS 943 476 5919` or an email as a name leaks exactly as it would in a message. Names are
also how people pose as the host: `NHSΕmplοyers` with a Greek Ε and ο, fullwidth letters,
zero-width or right-to-left override characters, or the host's exact handle. So a name is
NFKC-normalised with invisible and bidi controls stripped, then compared by its confusables
skeleton (Unicode TR39's idea: map each character to the Latin letter it looks like) with
the host's, the co-hosts' and the moderators' names.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from confusable_homoglyphs import confusables

from bot.moderation.conduct import detect_abuse
from bot.moderation.detectors import detect_identifiers
from bot.moderation.wordlist import WordList, load_wordlist

__all__ = ["NameRefused", "RESERVED", "normalise_name", "screen_name", "skeleton"]

# Always kept for the people running a chat, whatever the script calls them.
RESERVED = ("host", "moderator", "moderators", "mod", "admin", "administrator", "tweetchat",
            "system", "bot")
# After the homoglyph map: look-alike digits, symbols and letter pairs, read as letters.
_ASCII_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l",
                                  "3": "e", "4": "a", "5": "s", "$": "s", "7": "t",
                                  "8": "b"})
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


class NameRefused(ValueError):
    """A display name the chat will not show; str(exc) tells the person what to change."""


def normalise_name(raw: str) -> str:
    """The name in NFKC, with controls, invisible characters and extra spaces removed.

    Invisible format characters are zero-width, bidi overrides and BOM; what is shown is
    what was checked.
    """
    text = unicodedata.normalize("NFKC", raw)
    kept = [c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs", "Cn")
            or c in " "]
    name = " ".join("".join(kept).split())
    # Combining marks piled on one letter ("Zalgo") are refused rather than shown.
    if re.search(r"[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff]{3,}", name):
        raise NameRefused("Too many accents on one letter; choose a plainer name.")
    return name


@functools.lru_cache(maxsize=4096)
def _latin(char: str) -> str:
    if char.isascii():
        return char
    found = confusables.is_confusable(char, preferred_aliases=[], greedy=True)
    if found:
        for glyph in found[0]["homoglyphs"]:
            if glyph["c"].isascii():
                return str(glyph["c"])
    base = unicodedata.normalize("NFKD", char)
    return "".join(c for c in base if c.isascii()) or char


@functools.lru_cache(maxsize=1024)  # the host's and moderators' names, on every join
def skeleton(name: str) -> str:
    """What `name` looks like, reduced to lower-case Latin letters and digits only."""
    # Map before folding case: capital Greek Epsilon looks like E, its lower case does not.
    text = unicodedata.normalize("NFKC", name)
    latin = "".join(_latin(c) for c in text).casefold().translate(_ASCII_LOOKALIKE)
    for pair, letter in _PAIRS:
        latin = latin.replace(pair, letter)
    return "".join(c for c in latin if c.isalnum() and c.isascii())


def screen_name(raw: str, protected: Iterable[str] = (), *, words: WordList | None = None
                ) -> str:
    """The name to show, or NameRefused saying why not.

    Refused: personal data, abuse, posing as the host, a co-host or a moderator, or
    nothing visible.
    """
    name = normalise_name(raw)
    if not name or not any(c.isalnum() for c in name):
        raise NameRefused("Choose a display name with letters or digits in it.")
    if detect_identifiers(name):
        raise NameRefused("Display names can't hold phone numbers, emails, NHS numbers, "
                          "postcodes or dates of birth; choose another.")
    if detect_abuse(name, words or _default_words()):
        raise NameRefused("That name breaks the canteen rule; choose another.")
    shape = skeleton(name)
    for other in (*RESERVED, *protected):
        theirs = skeleton(other)
        if theirs and (shape == theirs or (len(theirs) >= 5 and theirs in shape)):
            raise NameRefused("That name is kept for the people running the chat; "
                              "choose another.")
    return name


@functools.cache
def _default_words() -> WordList:
    return load_wordlist()
