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

The comparison fails closed: accents and marks are stripped, stroked letters and small
capitals map to their base letter, and a letter that looks like no ASCII letter is kept
(never dropped, which once let `Test Høst` pass as `testhst`) and may stand in for one of
the reserved name's letters, so an unmapped look-alike is still refused.
"""

from __future__ import annotations

import functools
import re
import string
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


# Latin letters that keep no ASCII base under NFKD: strokes, bars, hooks, small capitals
# (ø ł ŧ ħ đ ƀ Ⱥ ᴛ ʜ ɴ ꜱ). Their Unicode names say which letter they are drawn from
# ("LATIN SMALL LETTER O WITH STROKE", "LATIN LETTER SMALL CAPITAL T"), so the map is read
# from the names of the Latin blocks rather than typed by hand; letters named by a word
# (eth, eng, thorn) map to the letter they look like.
_LATIN_NAME = re.compile(  # any qualifiers (SMALL CAPITAL, BARRED, SIDEWAYS...) first
    r"LATIN (?:CAPITAL |SMALL )?(?:LETTER|LIGATURE) (?:[A-Z\-]+ )*?"
    r"([A-Z]{1,2}|ETH|ENG|THORN|KRA|ALPHA|WYNN)(?: WITH .+| BAR)?")
_NAMED_BY_WORD = {"ETH": "d", "ENG": "n", "THORN": "p", "KRA": "k", "ALPHA": "a", "WYNN": "p"}
_LATIN_BLOCKS = ((0x00C0, 0x0250), (0x0250, 0x02B0), (0x1D00, 0x1DC0), (0x1E00, 0x1F00),
                 (0x2C60, 0x2C80), (0xA720, 0xA800), (0xAB30, 0xAB70))


@functools.cache
def _latin_letters() -> dict[str, str]:
    """Each letter of the Latin blocks without an ASCII decomposition -> its base letters."""
    found = {}
    for first, end in _LATIN_BLOCKS:
        for point in range(first, end):
            m = _LATIN_NAME.fullmatch(unicodedata.name(chr(point), ""))
            if m:
                found[chr(point)] = _NAMED_BY_WORD.get(m.group(1), m.group(1).lower())
    return found


@functools.cache
def _twins() -> dict[str, str]:
    """Each single character Unicode lists as confusable with an ASCII letter or digit -> it.

    Read in that direction (ASCII -> its homoglyphs), the table also knows right-to-left
    look-alikes (Hebrew ס for o) that it gives no ASCII twin when asked about them.
    """
    found: dict[str, str] = {}
    for letter in string.ascii_letters + string.digits:
        listed = confusables.is_confusable(letter, preferred_aliases=[], greedy=True)
        for glyph in listed[0]["homoglyphs"] if listed else ():
            twin = unicodedata.normalize("NFKC", str(glyph["c"]).strip("\u200e\u200f"))
            if len(twin) == 1 and not twin.isascii():
                found.setdefault(twin, letter)
    return found


def _ascii_base(text: str) -> str:
    """`text` decomposed (NFKD) with its marks and invisible characters dropped."""
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.category(c).startswith(("M", "C")))


@functools.lru_cache(maxsize=4096)
def _latin(char: str) -> str:
    """The ASCII letters `char` looks like, or `char` itself when it looks like none.

    Accents and marks go (é -> e), stroked and small-capital letters become their base
    (ø -> o, ᴛ -> t), and other scripts' look-alikes their Latin twin (Greek ο -> o).
    A letter that looks like no ASCII letter is kept, never dropped: dropped, `Høst`
    would read `hst`, and pass as someone other than `Host`.
    """
    if char.isascii():
        return char
    base = _ascii_base(char).strip()  # Greek ͺ decomposes to a space and a mark: nothing
    if base and base.isascii():
        return base
    for form in dict.fromkeys((char, base[:1])):  # ǿ is ø with an accent: try ø as well
        named = _twins().get(form) or _latin_letters().get(form)
        if named:
            return named
        found = form and confusables.is_confusable(form, preferred_aliases=[], greedy=True)
        for glyph in found[0]["homoglyphs"] if found else ():
            plain = _ascii_base(str(glyph["c"]))
            if plain and plain.isascii() and plain.isalnum():
                return plain
    return base or char


def _unmarked(char: str) -> str:
    """`char` decomposed without its marks; a letter that would vanish is kept whole."""
    if unicodedata.category(char).startswith("M"):
        return ""
    plain = _ascii_base(char) if not char.isascii() else char
    return plain if plain.strip() or not char.isalpha() else char


@functools.lru_cache(maxsize=1024)  # the host's and moderators' names, on every join
def skeleton(name: str) -> str:
    """What `name` looks like: lower-case ASCII letters and digits, and other letters.

    A letter that looks like no ASCII letter (in another script) is kept as itself.
    """
    # Marks go before anything reads the letters: NFKC makes some of them letters (a Greek
    # ypogegrammeni under an o becomes ι). Map before folding case: capital Greek Epsilon
    # looks like E, its lower case does not.
    text = "".join(_unmarked(c) for c in name)
    latin = "".join(_latin(c) for c in text).casefold().translate(_ASCII_LOOKALIKE)
    for pair, letter in _PAIRS:
        latin = latin.replace(pair, letter)
    return "".join(c for c in latin if c.isalnum())


def _poses_as(shape: str, theirs: str) -> bool:
    """Whether a name of skeleton `shape` reads as `theirs` (or holds it, if 5+ long).

    Fails closed: a letter that looks like no ASCII letter (kept as itself in the
    skeleton) may stand in for one of their letters, up to one in four of them, so a
    look-alike this module has no map for is still refused; names wholly in another
    script are not.
    """
    spare = len(theirs) // 4

    def fits(window: str) -> bool:
        odd = 0
        for mine, their in zip(window, theirs, strict=True):
            if mine != their:
                if mine.isascii() or not their.isascii():
                    return False
                odd += 1
        return odd <= spare

    if len(shape) == len(theirs):
        return fits(shape)
    return len(theirs) >= 5 and any(fits(shape[i:i + len(theirs)])
                                    for i in range(len(shape) - len(theirs) + 1))


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
        if theirs and _poses_as(shape, theirs):
            raise NameRefused("That name is kept for the people running the chat; "
                              "choose another.")
    return name


@functools.cache
def _default_words() -> WordList:
    return load_wordlist()
