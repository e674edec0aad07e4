"""The clean-message path of `detect_abuse` (`_anything`) never hides a finding."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.moderation import conduct
from bot.moderation.wordlist import load_wordlist

WORDS = load_wordlist()
PIECES = sorted(WORDS.roots())[:40] + ["piss off", "a", "I", "you", "walk", "Scunthorpe",
                                      "sh1t", "$hit", "f**k", "c u n t", "s.h.i.t", "shiiit"]
text = st.lists(st.one_of(st.sampled_from(PIECES),
                          st.text(st.sampled_from("abcdefghstuk 1@$!|*.-_~'"), max_size=6)),
                max_size=12).map(" ".join)


def _without_fast_path(value: str) -> list[conduct.Finding]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conduct, "_anything", lambda *_: True)
        return conduct.detect_abuse(value, WORDS)


@given(text)
@example("you are a c u n t")
@example("s.h.i.t happens")
@example("just piss off")
def test_the_fast_path_finds_what_the_full_path_finds(value: str) -> None:
    assert conduct.detect_abuse(value, WORDS) == _without_fast_path(value)
