"""X's weighted length and the hashtag helper, table-driven."""

from __future__ import annotations

import pytest

from bot.platforms.x.text import MAX_WEIGHTED, has_hashtag, weighted_length, with_hashtag

LENGTHS = [
    ("", 0),
    ("hello", 5),
    ("A1 I agree #NHSSM", 17),
    ("café", 4),  # precomposed
    ("cafe\u0301", 4),  # decomposed: NFC makes it one code point
    ("Привет", 6),  # Cyrillic is in U+0000-U+10FF
    ("שלום", 4),  # Hebrew
    ("日本語", 6),  # CJK weighs 2
    ("한국", 4),
    ("\u2014", 1),  # em dash U+2014 is in U+2010-U+201F
    ("\u2026", 2),  # ellipsis U+2026 is outside every light range
    ("\u2032", 1),  # prime, U+2032-U+2037
    ("\u20ac", 2),  # euro sign U+20AC weighs 2
    ("😀", 2),
    ("👍🏽", 2),  # skin tone modifier joins the emoji
    ("👩\u200d👩\u200d👧\u200d👦", 2),  # ZWJ family
    ("🇬🇧", 2),  # flag: a regional indicator pair
    ("1\ufe0f\u20e3", 2),  # keycap
    ("❤\ufe0f", 2),
    ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 2),  # England flag
    ("©", 1),
    ("©\ufe0f", 2),
    ("hi 😀!", 6),
    ("https://example.com", 23),
    ("https://www.nhsemployers.org/a/very/long/path/that/goes/on/and/on?x=1&y=2", 23),
    ("see https://t.co/abc.", 4 + 23 + 1),  # trailing full stop is not part of the link
    ("www.nhs.uk", 23),
    ("read nhs.uk/conditions today", 5 + 23 + 6),
    ("two links http://a.com http://b.org", 10 + 23 + 1 + 23),
    ("mail bob@example.com", 5 + 15),  # an email address is not a link
    ("e.g. this", 9),
    ("x" * 280, 280),
    ("日" * 140, 280),
]


@pytest.mark.parametrize(("text", "expected"), LENGTHS)
def test_weighted_length(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_limit_is_280() -> None:
    assert MAX_WEIGHTED == 280
    assert weighted_length("日" * 141) > MAX_WEIGHTED


HASHTAGS = [
    # text, hashtag, result
    ("Q1 What helps?", "#NHSSM", "Q1 What helps? #NHSSM"),
    ("Q1 What helps?", "NHSSM", "Q1 What helps? #NHSSM"),
    ("Q1 What helps? #nhssm", "#NHSSM", "Q1 What helps? #nhssm"),
    ("#NHSSM welcome", "#NHSSM", "#NHSSM welcome"),
    ("Welcome to #NHSSM!", "#NHSSM", "Welcome to #NHSSM!"),
    ("Talk at #NHSSMchat", "#NHSSM", "Talk at #NHSSMchat #NHSSM"),  # a longer tag is not ours
    ("trailing space   ", "#NHSSM", "trailing space #NHSSM"),
    ("", "#NHSSM", "#NHSSM"),
    ("no tag configured", "", "no tag configured"),
]


@pytest.mark.parametrize(("text", "tag", "expected"), HASHTAGS)
def test_with_hashtag(text: str, tag: str, expected: str) -> None:
    assert with_hashtag(text, tag) == expected


@pytest.mark.parametrize(
    ("text", "tag", "expected"),
    [
        ("A1 yes #NHSSM", "#nhssm", True),
        ("A1 yes #NHSSM2", "#NHSSM", False),
        ("A1 yes ##NHSSM", "#NHSSM", False),
        ("A1 yes NHSSM", "#NHSSM", False),
    ],
)
def test_has_hashtag(text: str, tag: str, expected: bool) -> None:
    assert has_hashtag(text, tag) is expected
