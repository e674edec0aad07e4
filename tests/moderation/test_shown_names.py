"""Platform display names (bot.moderation.shown_names): never refused, always safe to show."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from bot.moderation.names import normalise_name
from bot.moderation.policy import Policy
from bot.moderation.shown_names import POSING_MARK, NameScreen

SCREEN = NameScreen(Policy.default(), ["@NHSEmployers", "Jo Cohost"])
# Valid NHS numbers (Modulus 11) and phones the detectors catch, written as people write them.
IDENTIFIERS = ["943 476 5919", "4010232137", "07911 123456", "jane.doe@nhs.net", "SW1A 1AA"]
TRICKS = ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\ufeff", "\u0000", "\u001b"]
words = st.text(st.characters(categories=["L"], max_codepoint=0x24F), min_size=1, max_size=8)


@given(before=st.lists(words, max_size=3), after=st.lists(words, max_size=3),
       identifier=st.sampled_from(IDENTIFIERS), tricks=st.lists(st.sampled_from(TRICKS)))
@example(before=["Bed", "Mrs", "Jones"], after=[], identifier="943 476 5919", tricks=[])
def test_no_identifier_or_control_survives(before: list[str], after: list[str],
                                           identifier: str, tricks: list[str]) -> None:
    raw = " ".join([*before, identifier, *after])
    for i, trick in enumerate(tricks):  # sprinkled through the name
        at = (i * 7) % (len(raw) + 1)
        raw = raw[:at] + trick + raw[at:]
    shown = SCREEN(raw)
    assert identifier not in shown
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in shown)


@given(st.lists(st.text(st.characters(categories=["L"], max_codepoint=0x7F), min_size=2,
                        max_size=10), min_size=1, max_size=3))
def test_plain_names_are_shown_as_the_web_room_shows_them(parts: list[str]) -> None:
    raw = " ".join(parts)
    shown = SCREEN(raw)
    assert shown in (normalise_name(raw), normalise_name(raw) + POSING_MARK) or "[removed]" in shown


def test_names_posing_as_the_people_running_the_chat_are_marked() -> None:
    for raw in ("Moderator", "NHSΕmplοyers", "nhs employers", "Jo  Cohost", "ADMIN"):
        assert SCREEN(raw).endswith(POSING_MARK), raw
    assert SCREEN("Joanne") == "Joanne" and SCREEN("Jo") == "Jo"


def test_accents_piled_on_a_letter_are_dropped_not_refused() -> None:
    assert SCREEN("Zo\u0301\u0301\u0301\u0301e") == "Zoe"
