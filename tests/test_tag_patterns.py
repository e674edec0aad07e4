"""The answer-tag scan, rewritten for speed (issue 15), finds exactly what it found before.

The earlier pattern (case-insensitive, look-behind first) is the oracle; hypothesis writes
texts dense in the characters that decide a match: the tag letters in both cases, digits,
word characters, "@", separators and the characters that end a number.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.attribution import _NUM_END, _patterns, parse_tags


def _before(tag_style: str) -> re.Pattern[str]:
    letter = "A" if tag_style == "Q" else "[AT]"
    more = rf"(?:\s*[/&]\s*(?:{letter})?\.?\d{{1,2}}{_NUM_END})*"
    return re.compile(rf"(?<![\w@]){letter}\.?(?P<n>\d{{1,2}}){_NUM_END}(?P<more>{more})",
                      re.IGNORECASE)


texts = st.text(alphabet="aAtTqQbé_@#./&%:, 0123456789\nſKk", max_size=60)


@given(texts, st.sampled_from(["Q", "T"]))
def test_the_compact_tag_pattern_matches_as_before(text: str, tag_style: str) -> None:
    compact = _patterns(tag_style)[0]
    old = [(m.span(), m.group("n"), m.group("more")) for m in _before(tag_style).finditer(text)]
    new = [(m.span(), m.group("n"), m.group("more")) for m in compact.finditer(text)]
    assert new == old


def test_tags_in_real_chatter() -> None:
    assert parse_tags("A5 manager media ward #NHSSM", "Q", 5) == (5,)
    assert parse_tags("a2/A3 my team, HbA1c, @A1fan, A1.5", "Q") == (2, 3)
    assert parse_tags("t2 and A1", "T") == (2, 1) and parse_tags("t2 and A1", "Q") == (1,)
