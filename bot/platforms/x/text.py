"""X's weighted tweet length, and adding the chat's hashtag to a post.

X does not count characters: it counts *weight* (twitter-text configuration v3). Latin,
Greek, Cyrillic, Hebrew, Arabic and common punctuation weigh 1; CJK, most symbols and
everything else weigh 2; every URL weighs 23 however long it is (t.co wraps it); an emoji
sequence (skin tone, ZWJ family, flag, keycap) weighs 2 as a whole. Text is NFC-normalised
first, so a decomposed "e + combining accent" counts like "é".

Deliberately small: URL detection covers links with a scheme, `www.` links and bare
domains with a common top-level domain, which is what chat scripts contain. It is not the
full twitter-text TLD list; a rarely used bare domain may be counted as text (a little
shorter than X counts it), never longer.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED = 280
URL_WEIGHT = 23
_DEFAULT_WEIGHT = 2

# (first, last) code point ranges that weigh 1 (twitter-text v3 "ranges" with weight 100).
_LIGHT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x10FF),
    (0x2000, 0x200D),
    (0x2010, 0x201F),
    (0x2032, 0x2037),
)

_COMMON_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|co|ly|me|tv|app|dev|ai|eu|uk|us|ca|au|nz|ie|de|"
    "fr|es|it|nl|be|ch|se|no|dk|fi|pl|pt|in|jp|cn|nhs|health|news|blog|online|site"
)
# Scheme URLs, www. URLs, and bare domains with a common TLD (optionally with a path).
# Trailing sentence punctuation is not part of a link.
_URL_RE = re.compile(
    r"(?<![\w@.])"
    r"(?:"
    r"https?://[^\s<>\"']+"
    r"|www\.[^\s<>\"']+"
    rf"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_COMMON_TLDS})(?![\w-])(?:[/?#][^\s<>\"']*)?"
    r")",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?)]}'\"»"

_ZWJ = 0x200D
_VS16 = 0xFE0F
_KEYCAP = 0x20E3


def _is_light(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES)


def _is_pictographic(cp: int) -> bool:
    """Code points that start an emoji (a practical subset of Extended_Pictographic)."""
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2190 <= cp <= 0x21FF
        or 0x25A0 <= cp <= 0x25FF
        or cp in (0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _is_modifier(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF  # skin tones


def _is_regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007F  # subdivision flags (England, Scotland, Wales)


def _emoji_end(cps: list[int], i: int) -> int:
    """If an emoji sequence starts at i, return the index just past it; otherwise i."""
    n = len(cps)
    cp = cps[i]
    # Keycap: [0-9#*] VS16? U+20E3
    if cp < 0x80 and chr(cp) in "0123456789#*":
        j = i + 1
        if j < n and cps[j] == _VS16:
            j += 1
        return j + 1 if j < n and cps[j] == _KEYCAP else i
    if cp in (0xA9, 0xAE):  # (c) and (R) are text unless asked to look like emoji
        return i + 2 if i + 1 < n and cps[i + 1] == _VS16 else i
    if _is_regional(cp):
        return i + 2 if i + 1 < n and _is_regional(cps[i + 1]) else i + 1
    if not _is_pictographic(cp):
        return i
    j = i + 1
    while True:
        while j < n and (cps[j] == _VS16 or _is_modifier(cps[j]) or _is_tag(cps[j])):
            j += 1
        if j + 1 < n and cps[j] == _ZWJ and _is_pictographic(cps[j + 1]):
            j += 2
            continue
        return j


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _URL_RE.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _TRAILING_PUNCT:
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _weigh_plain(text: str) -> int:
    cps = [ord(c) for c in text]
    total = 0
    i = 0
    while i < len(cps):
        end = _emoji_end(cps, i)
        if end > i:
            total += _DEFAULT_WEIGHT
            i = end
            continue
        total += 1 if _is_light(cps[i]) else _DEFAULT_WEIGHT
        i += 1
    return total


def weighted_length(text: str) -> int:
    """The length X counts against its 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for start, end in _url_spans(text):
        total += _weigh_plain(text[pos:start]) + URL_WEIGHT
        pos = end
    return total + _weigh_plain(text[pos:])


def _normal_tag(hashtag: str) -> str:
    tag = hashtag.strip()
    return tag if tag.startswith("#") else f"#{tag}"


def has_hashtag(text: str, hashtag: str) -> bool:
    """Whether `text` carries `hashtag` as a whole tag, case-insensitively (#nhssm == #NHSSM)."""
    tag = _normal_tag(hashtag)
    pattern = rf"(?<![\w#]){re.escape(tag)}(?!\w)"
    return re.search(pattern, unicodedata.normalize("NFC", text), re.IGNORECASE) is not None


def with_hashtag(text: str, hashtag: str) -> str:
    """`text` with " #Tag" appended unless it already carries the tag."""
    if not hashtag.strip("# \t"):
        return text
    if has_hashtag(text, hashtag):
        return text
    body = text.rstrip()
    tag = _normal_tag(hashtag)
    return f"{body} {tag}" if body else tag
