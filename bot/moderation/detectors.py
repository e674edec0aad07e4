"""Identifier detectors: pure functions from text to matched spans.

Confidentiality first ("if you wouldn't say it in the canteen, don't type it"): an NHS
chat must never publish a patient's NHS number, phone, email, postcode or date of birth.
Each detector is tuned against a list of known false positives (times, counts, question
tags such as "A1", dates with no birth context), which the tests keep honest.

A `Finding` never leaves this process with its `matched` text: the engine stores offsets
and the reason only, so the moderation tables do not become a second copy of the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from bot.moderation.folding import Folded, fold

__all__ = [
    "Finding", "detect_dob", "detect_emails", "detect_identifiers", "detect_nhs_numbers",
    "detect_phones", "detect_postcodes", "nhs_check_digit",
]


@dataclass(frozen=True)
class Finding:
    """One matched span: which check, where in the text, what matched and why it counts."""

    check: str
    start: int
    end: int
    matched: str
    reason: str


# -- NHS numbers ---------------------------------------------------------------------------

# A run of digit groups joined by one separator each (a space, or a dot or hyphen with
# spaces either side or none): "bed 3 943 476 5919 401 023 2137" is one run of six groups.
# Every window of whole groups holding exactly ten digits is judged on its own, so a tag,
# a bed number or a second NHS number beside one hides nothing (943 476 5919, 9434765919
# and 9434 765 919 are all ten digits in whole groups).
_GROUP_RUN = re.compile(r"\d+(?:(?: ?[.\-] ?| )\d+)*")
_GROUP = re.compile(r"\d+")
# A number written after an international prefix is a phone number, not an NHS number.
_INTL_BEFORE = re.compile(r"(?:\+|\b00)\d{1,3}[ \-]?(?:\(0\)[ \-]?)?$")


def nhs_check_digit(nine: str) -> int | None:
    """The Modulus 11 check digit for the first nine digits, or None when none is possible."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


_NHS_HINT = re.compile(r"\d[\d .\-]{8,}\d")


def detect_nhs_numbers(text: str) -> list[Finding]:
    """NHS numbers: ten digits whose Modulus 11 check digit holds, unless after +NN or 00NN."""
    return _nhs_numbers(fold(text))


def _nhs_numbers(folded: Folded) -> list[Finding]:
    text = folded.text
    if not _NHS_HINT.search(text):  # a cheap look for ten digits' worth before the real one
        return []
    spans: list[tuple[int, int]] = []
    for run in _GROUP_RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, run.start(), run.end())]
        for i, (start, _end) in enumerate(groups):
            # A group glued to a letter ("A1", "Q3") is a tag: it joins no number after it.
            glued = start > 0 and text[start - 1].isalpha()
            digits = ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0]:groups[j][1]]
                if len(digits) >= 10 or (glued and j == i):
                    break
            if len(digits) != 10 or nhs_check_digit(digits[:9]) != int(digits[9]):
                continue
            if _INTL_BEFORE.search(text, max(0, start - 12), start):
                continue
            spans.append((start, groups[j][1]))
    found: list[Finding] = []
    for start, end in spans:  # overlapping windows (a list of numbers) mask as one
        if found and start < found[-1].end:
            last = found.pop()
            start, end = last.start, max(end, last.end)
        found.append(Finding("nhs_number", start, end, text[start:end], "NHS number"))
    return [_back(folded, f) for f in found]


def _back(folded: Folded, f: Finding) -> Finding:
    """A finding in the folded text, restated in the original text's offsets."""
    start, end, matched = folded.original_of(f.start, f.end)
    return Finding(f.check, start, end, matched, f.reason)


# -- phone numbers -------------------------------------------------------------------------

# phonenumbers is thorough but slow (~40us even on clean text), so it only sees messages
# with a run of seven or more digits, the shortest a real phone number can be.
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6}")
# In a chat about confidentiality a number shaped like a phone number is one, whether or not
# libphonenumber calls it "valid": Ofcom's drama ranges (07700 900xxx, 01632 960xxx, 020 7946
# 0xxx), numbers not yet allocated and new ranges are all "possible" but not "valid". So every
# possible number is taken when it is written as people write phone numbers: with the UK
# trunk 0 and 10-11 digits, or with an international prefix (+ or 00) and 8 or more digits.
# Without that shape (order numbers, ISBNs, NHS numbers, counts, times, 111/999) only a
# number libphonenumber calls valid counts, as before.
_TRUNK_DIGITS = (10, 11)
_INTL_MIN_DIGITS = 8


def _phone_shaped(raw: str, number: phonenumbers.PhoneNumber) -> bool:
    """A possible number written with the UK trunk 0 (10-11 digits) or + / 00 (8 or more)."""
    head = raw.lstrip("( ")
    digits = sum(c.isdigit() for c in raw)
    if head.startswith(("+", "00")):
        return digits >= _INTL_MIN_DIGITS and phonenumbers.is_possible_number(number)
    return head.startswith("0") and digits in _TRUNK_DIGITS


def detect_phones(text: str, region: str = "GB") -> list[Finding]:
    """Every valid phone number, and every possible one written as a phone number."""
    return _phones(fold(text), region)


def _phones(folded: Folded, region: str) -> list[Finding]:
    text = folded.text
    if not _DIGIT_RUN.search(text):
        return []
    found: dict[tuple[int, int], Finding] = {}
    for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        found[(m.start, m.end)] = Finding("phone", m.start, m.end, m.raw_string, "phone number")
    for m in phonenumbers.PhoneNumberMatcher(text, region,
                                             leniency=phonenumbers.Leniency.POSSIBLE):
        if (m.start, m.end) not in found and _phone_shaped(m.raw_string, m.number):
            found[(m.start, m.end)] = Finding("phone", m.start, m.end, m.raw_string,
                                              "phone number")
    for f in _retry_phones(text, list(found.values()), region):
        found[(f.start, f.end)] = f
    return [_back(folded, _with_country_code(text, f))
            for f in sorted(found.values(), key=lambda f: f.start)]


def _with_country_code(text: str, f: Finding) -> Finding:
    """The finding widened over a "+44 " just before it (the matcher can leave it out)."""
    m = _INTL_BEFORE.search(text, max(0, f.start - 8), f.start)
    if m is None or f.matched.startswith(("+", "00")):
        return f
    return Finding(f.check, m.start(), f.end, text[m.start():f.end], f.reason)


def _prefixed(raw: str, region: str) -> bool:
    """Written with + or 00, or with the region's trunk prefix (0 in the UK) where it has one.

    As the matcher's VALID leniency asks: "123 456 7890" would be a valid Bedford number
    with the 0 before it, and without it is no phone number anyone writes.
    """
    head = raw.lstrip("(")
    if head.startswith(("+", "00")):
        return True
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = meta.national_prefix if meta is not None else None
    return not trunk or head.startswith(trunk)


# libphonenumber reads a run of digit groups as one candidate and drops it whole when that
# is no number: "A1 07911 123456" (it tries "1 07911 123456"), "07911 123456 2 weeks ago",
# a bed number before a phone. So every run it left uncovered is tried again from each
# group, longest reading first, up to six groups and 7-15 digits at a time.
_PHONE_RUN = re.compile(r"[+(]?\d[\d .\-()]*\d")
_MAX_GROUPS = 6


def _retry_phones(text: str, found: list[Finding], region: str) -> list[Finding]:
    taken = [(f.start, f.end) for f in found]
    more: list[Finding] = []
    for run in _PHONE_RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, run.start(), run.end())]
        if len(groups) < 2 or sum(e - s for s, e in groups) < 7:
            continue
        i = 0
        while i < len(groups):
            hit = _phone_from(text, groups, i, taken, region)
            if hit is None:
                i += 1
                continue
            more.append(hit[0])
            taken.append((hit[0].start, hit[0].end))
            i = hit[1] + 1
    return more


def _phone_from(text: str, groups: list[tuple[int, int]], i: int,
                taken: list[tuple[int, int]], region: str) -> tuple[Finding, int] | None:
    """The longest phone number starting at group i, and the index of its last group."""
    start = groups[i][0]
    if start > 0 and text[start - 1] in "+(":  # "+44 ...", "(0113) ..."
        start -= 1
    if start > 0 and text[start - 1].isalnum():  # "A1", "x07911": a tag or a word, not a phone
        return None
    for j in range(min(len(groups), i + _MAX_GROUPS) - 1, i - 1, -1):
        end = groups[j][1]
        if any(s < end and start < e for s, e in taken):
            continue
        raw = text[start:end]
        digits = sum(c.isdigit() for c in raw)
        if not 7 <= digits <= 15 or not _prefixed(raw, region):
            continue
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) or (
                phonenumbers.is_possible_number(number) and _phone_shaped(raw, number)):
            return Finding("phone", start, end, raw, "phone number"), j
    return None


# -- email addresses -----------------------------------------------------------------------

# The local part starts at the first character a local part may hold, "_" included
# ("_jane@nhs.net" was missed whole: it had to start with a letter or digit).
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9_](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"
)


def detect_emails(text: str) -> list[Finding]:
    """Email addresses."""
    return _emails(fold(text))


def _emails(folded: Folded) -> list[Finding]:
    if "@" not in folded.text:
        return []
    return [_back(folded, Finding("email", m.start(), m.end(), m.group(), "email address"))
            for m in _EMAIL.finditer(folded.text)]


# -- UK postcodes --------------------------------------------------------------------------

# Only real postcode areas count: this is what keeps question tags ("A1", "Q3", "T2") and
# grid references out. BF/BX are non-geographic, GIR 0AA is Girobank's.
_AREAS = frozenset(
    "AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH "
    "DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT "
    "KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG "
    "RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD "
    "WF WN WR WS WV YO ZE".split()
)
_POSTCODE = re.compile(
    r"(?<![\w@/])([A-Z]{1,2})(\d[A-Z\d]?) ?(\d[ABD-HJLNP-UW-Z]{2})(?![\w@])|(?<!\w)GIR ?0AA(?!\w)",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)", re.IGNORECASE)


_INWARD_HINT = re.compile(r"\d[A-Za-z]{2}(?![A-Za-z])")


def detect_postcodes(text: str) -> list[Finding]:
    """UK postcodes in real postcode areas (not question tags, ordinals or grid references)."""
    return _postcodes(fold(text))


def _postcodes(folded: Folded) -> list[Finding]:
    text = folded.text
    if not _INWARD_HINT.search(text):  # every postcode ends digit-letter-letter
        return []
    found = []
    for m in _POSTCODE.finditer(text):
        if m.group(1) is not None:
            area, inward = m.group(1), m.group(3)
            if area.upper() not in _AREAS:
                continue
            # "E1 2nd", "N1 1st floor": written in lower case, an ordinal is an ordinal.
            if inward[1:].islower() and _ORDINAL.fullmatch(inward):
                continue
            # All lower case with no space ("se13ab") reads as a word or a tag, not a postcode.
            whole = m.group()
            if whole.islower() and " " not in whole:
                continue
        found.append(_back(folded, Finding("postcode", m.start(), m.end(), m.group(),
                                           "postcode")))
    return found


# -- dates of birth ------------------------------------------------------------------------

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"  # "Sept." too
)
_YEAR = r"(?:\d{4}|['\u2019]?\d{2}(?!\d))"  # 1954, '54, 54
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}(?:[/.\-](?:\d{4}|\d{2}))?"  # 12/03/1954, 12.03.54, 12/03
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"  # 1954-03-12, 1954/03/12
    rf"|\d{{1,2}}-{_MONTHS}-{_YEAR}"  # 12-Mar-1954, as clinical systems print it
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTHS},? ?{_YEAR}?"  # 3 March 1954, 3rd of March
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?,? ?{_YEAR}?)"  # March 3, 1954
)
# The birth context must come right before the date: "DOB 12/03/1954", "born on 3 March
# 1954", "date of birth is 12.03.54", "d.o.b: 1/2/60", "born on the 3rd of March 1954".
_DOB = re.compile(
    r"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s?date|birthday|born)"
    r"(?:\s*(?:[:\-]|is|was|on|of|the|=)\s*){0,3}\s*"
    rf"(?P<date>{_DATE})(?![\d/])",
    re.IGNORECASE,
)


def detect_dob(text: str) -> list[Finding]:
    """Dates right after a birth context ("DOB", "born on", "date of birth is"), not any date."""
    return _dob(fold(text))


def _dob(folded: Folded) -> list[Finding]:
    text = folded.text
    lowered = text.lower()
    if "b" not in lowered or not any(k in lowered for k in ("dob", "d.o.b", "birth", "born")):
        return []
    found = []
    for m in _DOB.finditer(text):
        start, end = m.span("date")
        date = text[start:end].rstrip(" ,")
        found.append(_back(folded, Finding("dob", start, start + len(date), date,
                                           "date of birth")))
    return found


# -- all identifiers -----------------------------------------------------------------------


def detect_identifiers(text: str, *, phone_region: str = "GB") -> list[Finding]:
    """Every identifier finding, overlaps resolved.

    An NHS number beats the phone reading of the same digits unless they carry a phone
    prefix such as 0 or +44.
    """
    folded = fold(text)
    nhs = _nhs_numbers(folded)
    phones = _phones(folded, phone_region)
    kept_phones = []
    for p in phones:
        clash = [n for n in nhs if n.start < p.end and p.start < n.end]
        if clash and not p.matched.lstrip("(").startswith(("0", "+")):
            continue
        if clash:
            nhs = [n for n in nhs if n not in clash]
        kept_phones.append(p)
    findings = (nhs + kept_phones + _emails(folded) + _postcodes(folded) + _dob(folded))
    return resolve_overlaps(findings)


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the longest of overlapping findings (earliest first on ties)."""
    ordered = sorted(findings, key=lambda f: (f.start, -(f.end - f.start)))
    out: list[Finding] = []
    for f in ordered:
        if out and f.start < out[-1].end:
            if (f.end - f.start) > (out[-1].end - out[-1].start):
                out[-1] = f
            continue
        out.append(f)
    return out
