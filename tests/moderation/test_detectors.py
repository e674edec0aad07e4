"""Table-driven tests for the identifier detectors, known false positives included."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.moderation.detectors import detect_identifiers, nhs_check_digit


def checks(text: str) -> list[tuple[str, str]]:
    return [(f.check, f.matched) for f in detect_identifiers(text)]


POSITIVES = [
    # NHS numbers in any common spacing, valid Modulus 11 only
    ("my NHS number is 943 476 5919", [("nhs_number", "943 476 5919")]),
    ("943-476-5919 please check", [("nhs_number", "943-476-5919")]),
    ("nhs no:9434765919.", [("nhs_number", "9434765919")]),
    ("patient 401 023 2137 on ward 4", [("nhs_number", "401 023 2137")]),
    # phones: UK and international
    ("ring me on 07911 123456", [("phone", "07911 123456")]),
    ("switchboard 0161 496 0000 ext 22", [("phone", "0161 496 0000 ext 22")]),  # extension too
    ("call +44 20 7946 0958 today", [("phone", "+44 20 7946 0958")]),
    ("(0113) 496 0372 is HR", [("phone", "(0113) 496 0372")]),
    ("+1 202 555 0143 from the US team", [("phone", "+1 202 555 0143")]),
    ("mob:07911123456", [("phone", "07911123456")]),
    # emails
    ("email jo.bloggs@nhs.net for the form", [("email", "jo.bloggs@nhs.net")]),
    ("<a.b-c+hr@trust.nhs.uk>", [("email", "a.b-c+hr@trust.nhs.uk")]),
    # postcodes
    ("she lives at SW1A 1AA", [("postcode", "SW1A 1AA")]),
    ("M1 1AE is near the station", [("postcode", "M1 1AE")]),
    ("ls1 4ap", [("postcode", "ls1 4ap")]),
    ("EC1A1BB", [("postcode", "EC1A1BB")]),
    # dates of birth in context
    ("DOB 12/03/1954", [("dob", "12/03/1954")]),
    ("d.o.b: 1.2.60 and nothing else", [("dob", "1.2.60")]),
    ("born on 3 March 1954", [("dob", "3 March 1954")]),
    ("date of birth is 1954-03-12", [("dob", "1954-03-12")]),
    ("she was born March 3, 1954", [("dob", "March 3, 1954")]),
    ("Date of birth: 3rd of March 1954", [("dob", "3rd of March 1954")]),
]

NEGATIVES = [
    "NHS number 943 476 5918",  # bad check digit
    "ref 1234567890",  # bad check digit
    "ticket 9434765910",  # bad check digit
    "chat starts 20:00 sharp",
    "see you at 8pm on Wednesday",
    "Wednesday 12/03 at 8pm",  # a date without DOB context
    "1,234 staff answered the survey",
    "back in 2013 NHS Employers published the briefing",
    "A1 yes we have a policy",
    "Q3 what next? T2 agreed",
    "A1 2nd point: training",
    "N1 1st floor office",
    "E1 7th time lucky",
    "score 10 10 10 10 10",
    "room 101, bed 12, ward 7",
    "@NHSEmployers @PFDChamps",
    "see nhsemployers.org/socialmedia",
    "the 12/03/2013 session",
    "born in 1954 and proud",  # a year alone is not a date of birth
    "£1,500,000 budget for 2013/14",
    "v2.0.1 released",
    "call extension 4821",
    "COVID-19 in 2020",
    "A1 & Q3 & T2 & W1",
    "Q1 at 20:05, Q2 at 20:10",
    "123 456 7890",  # invalid check digit and no valid phone reading
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_detects(text: str, expected: list[tuple[str, str]]) -> None:
    assert checks(text) == expected


@pytest.mark.parametrize("text", NEGATIVES)
def test_false_positives_avoided(text: str) -> None:
    assert checks(text) == []


def test_nhs_check_digit_known_values() -> None:
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit("401023213") == 7
    assert nhs_check_digit("100000006") == 0  # a remainder of 0 gives check digit 0
    # 1*10 + 1*2 = 12, 11 - 12 % 11 = 10: no valid NHS number starts with these nine digits
    assert nhs_check_digit("100000001") is None


def test_phone_prefix_wins_over_nhs_reading() -> None:
    # "+44 161 496 0000" holds ten digits after the country code; it is a phone number.
    found = detect_identifiers("+44 161 496 0000")
    assert [f.check for f in found] == ["phone"]


def test_spans_point_at_the_text() -> None:
    text = "A1 my DOB 12/03/1954 and 943 476 5919, email x@y.org"
    for f in detect_identifiers(text):
        assert text[f.start:f.end] == f.matched


# Ofcom's drama ranges and unallocated blocks: possible numbers libphonenumber calls invalid.
POSSIBLE_UK = ["07700 900{}", "01632 960{}", "0113 496 0{}", "020 7946 0{}", "0161 496 0{}",
               "028 9649 6{}", "0808 157 0{}", "+44 7700 900{}", "+44 (0)1632 960{}"]


@settings(deadline=None)  # libphonenumber loads its metadata on first use: slow on a busy box
@given(st.sampled_from(POSSIBLE_UK), st.integers(0, 999),
       st.sampled_from(["ring me on {}", "{} is the ward", "NOK: {}.", "text {} pls"]))
def test_every_possible_uk_number_is_a_phone(shape: str, n: int, template: str) -> None:
    number = shape.format(f"{n:03d}")
    parsed = phonenumbers.parse(number, "GB")
    assert phonenumbers.is_possible_number(parsed)  # most, not all, are "invalid"
    text = template.format(number)
    found = [(f.check, f.matched) for f in detect_identifiers(text)]
    assert found == [("phone", number)]


@pytest.mark.parametrize("text", [
    "call 111 or 999", "ref 1234567890", "order 5551234567", "at 20:00 and 21:30",
    "1,234 staff and 2013/14", "version 0.9.1", "room 0113", "0 to 1500 followers",
    "ISBN 9780141036144",
])
def test_numbers_that_are_not_phones_stay(text: str) -> None:
    assert [f for f in detect_identifiers(text) if f.check == "phone"] == []


def test_an_nhs_number_is_not_read_as_a_possible_phone() -> None:
    assert [f.check for f in detect_identifiers("pt 943 476 5919 on the ward")] == ["nhs_number"]


# Hunt 26b: ordinary chat writing around an identifier hid it from the detectors.
ZW = "\u200b"
WRITTEN_AROUND = [
    ("A1 943 476 5919", [("nhs_number", "943 476 5919")]),
    ("bed 3 943 476 5919", [("nhs_number", "943 476 5919")]),
    ("9434765919 2 weeks ago", [("nhs_number", "9434765919")]),
    ("943 476 5919 401 023 2137", [("nhs_number", "943 476 5919"), ("nhs_number", "401 023 2137")]),
    ("no 943\u2009476\u20095919", [("nhs_number", "943\u2009476\u20095919")]),
    ("no " + ZW.join("9434765919"), [("nhs_number", ZW.join("9434765919"))]),
    ("A1 07911 123456", [("phone", "07911 123456")]),
    ("Q3 020 7946 0018", [("phone", "020 7946 0018")]),
    ("07911 123456 2 weeks ago", [("phone", "07911 123456")]),
    ("07911 123456 07700 900321", [("phone", "07911 123456"), ("phone", "07700 900321")]),
    ("DOB 12-Mar-1954", [("dob", "12-Mar-1954")]),
    ("DOB 3 Sept. 1954", [("dob", "3 Sept. 1954")]),
    ("date of birth 3rd March '54", [("dob", "3rd March '54")]),
    ("born on the 3rd of March 1954", [("dob", "3rd of March 1954")]),
    ("DOB 1954/03/12", [("dob", "1954/03/12")]),
    ("mail _jane@nhs.net", [("email", "_jane@nhs.net")]),
    ("lives at SW1A  1AA", [("postcode", "SW1A  1AA")]),
]


@pytest.mark.parametrize(("text", "expected"), WRITTEN_AROUND)
def test_identifiers_written_around(text: str, expected: list[tuple[str, str]]) -> None:
    assert checks(text) == expected


@pytest.mark.parametrize("text", [
    "A1 A2 A3 A4 A5 A6", "Ward 7 Bed 12 Bay 4 Side room 2", "2019 2020 2021 2022 2023",
    "1 2 3 4 5 6 7 8 9 10 ways", "ext 2345 2346 2347", "the order ref is 12345 67890",
    "shifts 07:30-20:00 and 19:30-08:00", "the 0800 to 2000 shift pattern",
    "team of 7 07:00 start", "order no 1234 5678 90", "Q1 12 Q2 15 Q3 9 answers so far",
])
def test_numbers_side_by_side_that_are_no_identifier(text: str) -> None:
    assert checks(text) == []


SEPARATORS = [" ", "  ", "-", " - ", ".", "\u00a0", "\u2009", "\u202f", "\u2007", "\u2013",
              "\u2014", "\u200b", "\u200d", "\u2060", "\u00ad", ""]
BEFORE = ["", "A1 ", "Q2 ", "bed 3 ", "ward 7 bay 4 ", "NHS no ", "pt: ", "12 "]
AFTER = ["", " 2 weeks ago", " 3", ", thanks", " 401 023 2137", "."]


@settings(deadline=None)
@given(sep=st.lists(st.sampled_from(SEPARATORS), min_size=9, max_size=9),
       before=st.sampled_from(BEFORE), after=st.sampled_from(AFTER))
def test_an_nhs_number_is_masked_however_it_is_written(sep: list[str], before: str,
                                                        after: str) -> None:
    digits = "9434765919"
    number = digits[0] + "".join(s + d for s, d in zip(sep, digits[1:], strict=True))
    text = before + number + after
    start = len(before)
    found = [f for f in detect_identifiers(text) if f.check == "nhs_number"]
    assert any(f.start <= start and start + len(number) <= f.end for f in found), (text, found)
