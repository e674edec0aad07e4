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

# Ten digits with at most one space, hyphen or dot between any two of them (943 476 5919,
# 943-476-5919, 9434765919, 9434 765 919), and no digit glued on either side.
_NHS = re.compile(r"(?<![\d+])(?<!\d[ .\-])\d(?:[ .\-\u00a0]?\d){9}(?![ .\-]?\d)")
# A number written after an international prefix is a phone number, not an NHS number.
_INTL_BEFORE = re.compile(r"(?:\+|\b00)\d{1,3}[ \-]?(?:\(0\)[ \-]?)?$")


def nhs_check_digit(nine: str) -> int | None:
    """The Modulus 11 check digit for the first nine digits, or None when none is possible."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


_NHS_HINT = re.compile(r"\d[\d .\-\u00a0]{8,}\d")


def detect_nhs_numbers(text: str) -> list[Finding]:
    """NHS numbers: ten digits whose Modulus 11 check digit holds, unless after +NN or 00NN."""
    if not _NHS_HINT.search(text):  # a cheap look for ten digits' worth before the real one
        return []
    found = []
    for m in _NHS.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if nhs_check_digit(digits[:9]) != int(digits[9]):
            continue
        if _INTL_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            continue
        found.append(Finding("nhs_number", m.start(), m.end(), m.group(), "NHS number"))
    return found


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
    return sorted(found.values(), key=lambda f: f.start)


# -- email addresses -----------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"
)


def detect_emails(text: str) -> list[Finding]:
    """Email addresses."""
    if "@" not in text:
        return []
    return [
        Finding("email", m.start(), m.end(), m.group(), "email address")
        for m in _EMAIL.finditer(text)
    ]


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
        found.append(Finding("postcode", m.start(), m.end(), m.group(), "postcode"))
    return found


# -- dates of birth ------------------------------------------------------------------------

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}(?:[/.\-](?:\d{4}|\d{2}))?"  # 12/03/1954, 12.03.54, 12/03
    r"|\d{4}-\d{2}-\d{2}"  # 1954-03-12
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTHS},? ?(?:\d{{4}})?"  # 3 March 1954, 3rd of March
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?,? ?(?:\d{{4}})?)"  # March 3, 1954
)
# The birth context must come right before the date: "DOB 12/03/1954", "born on 3 March
# 1954", "date of birth is 12.03.54", "d.o.b: 1/2/60".
_DOB = re.compile(
    r"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s?date|birthday|born)"
    r"(?:\s*(?:[:\-]|is|was|on|of|=)\s*){0,3}\s*"
    rf"(?P<date>{_DATE})(?![\d/])",
    re.IGNORECASE,
)


def detect_dob(text: str) -> list[Finding]:
    """Dates right after a birth context ("DOB", "born on", "date of birth is"), not any date."""
    lowered = text.lower()
    if "b" not in lowered or not any(k in lowered for k in ("dob", "d.o.b", "birth", "born")):
        return []
    found = []
    for m in _DOB.finditer(text):
        start, end = m.span("date")
        date = text[start:end].rstrip(" ,")
        found.append(Finding("dob", start, start + len(date), date, "date of birth"))
    return found


# -- all identifiers -----------------------------------------------------------------------


def detect_identifiers(text: str, *, phone_region: str = "GB") -> list[Finding]:
    """Every identifier finding, overlaps resolved.

    An NHS number beats the phone reading of the same digits unless they carry a phone
    prefix such as 0 or +44.
    """
    nhs = detect_nhs_numbers(text)
    phones = detect_phones(text, phone_region)
    kept_phones = []
    for p in phones:
        clash = [n for n in nhs if n.start < p.end and p.start < n.end]
        if clash and not p.matched.lstrip("(").startswith(("0", "+")):
            continue
        if clash:
            nhs = [n for n in nhs if n not in clash]
        kept_phones.append(p)
    findings = nhs + kept_phones + detect_emails(text) + detect_postcodes(text) + detect_dob(text)
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
