"""Weekly chats on a platform that refuses repeats (issue 16, finding 7): X refuses the
same text twice from one account, so each week's welcome, questions and close carry the
session's date (or number) through the script's `repeat_text` template."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive
from bot.clock import FakeClock
from bot.host import RetryPolicy, SessionHost
from bot.platforms.base import Capabilities, ChatContext, DuplicatePost, PostRef
from bot.platforms.memory import MemoryPlatform
from bot.repeats import MAX_FIELD_WIDTH, repeat_text_problem, unique_text
from bot.script import ChatScript, ScriptError, load_script
from tests.conftest import SMALL_SCRIPT, chat_script, write_script


class RefusesRepeats(MemoryPlatform):
    """The memory platform with X's rule: the same text twice is a duplicate."""

    capabilities = Capabilities(threads=True, refuses_repeats=True)

    async def post(self, text: str, *, reply_to: str | None = None,
                   new_thread: str | None = None) -> PostRef:
        if any(p.text == text for p in self.posts):
            raise DuplicatePost("You are not allowed to create a Tweet with duplicate content.")
        return await super().post(text, reply_to=reply_to, new_thread=new_thread)


async def _week(archive: Archive, script: ChatScript, platform: MemoryPlatform,
                clock: FakeClock) -> int:
    sid = archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=clock.now(), duration_minutes=5, platforms=["memory"],
        items=script.timeline(), host_name="Host")
    archive.update_session(sid, origin=clock.now(), started_at=clock.now(), status="live")
    host = SessionHost(archive, sid, {"memory": platform}, clock=clock,
                       retry=RetryPolicy(attempts=2, base_seconds=1),
                       repeat_text=script.model.repeat_text)
    task = asyncio.create_task(host.run())
    await clock.run_for(400, step=5)
    await asyncio.wait_for(task, 5)
    return sid


async def test_two_weeks_of_the_same_script_all_go_out(
    tmp_path: Path, small_script: ChatScript
) -> None:
    clock = FakeClock()
    archive = Archive(tmp_path / "a.db")
    platform = RefusesRepeats(ChatContext("test", "Test chat", "#TestChat", {}), clock=clock)
    first = await _week(archive, small_script, platform, clock)
    clock.advance(7 * 86400 - 400)
    second = await _week(archive, small_script, platform, clock)
    for sid in (first, second):
        assert {i.status for i in archive.items(sid)} == {"sent"}
    assert len(platform.posts) == 2 * len(small_script.timeline())
    assert platform.posts[0].text.endswith("(7 Jan)")
    assert platform.posts[-1].text.endswith("(14 Jan)")


async def test_the_moderator_chooses_the_session_number_instead(tmp_path: Path) -> None:
    text = SMALL_SCRIPT + 'repeat_text: "{text} [chat {number}]"\n'
    script = load_script(write_script(tmp_path / "chats", text))
    clock = FakeClock()
    archive = Archive(tmp_path / "a.db")
    platform = RefusesRepeats(ChatContext("test", "Test chat", "#TestChat", {}), clock=clock)
    await _week(archive, script, platform, clock)
    clock.advance(timedelta(days=7).total_seconds() - 400)
    await _week(archive, script, platform, clock)
    assert platform.posts[0].text.endswith("[chat 1]")
    assert platform.posts[-1].text.endswith("[chat 2]")


def test_a_template_without_the_text_or_with_unknown_fields_is_one_line(tmp_path: Path) -> None:
    assert repeat_text_problem("{text} ({date})") is None
    assert "must contain {text}" in (repeat_text_problem("week {number}") or "")
    assert "{weekday}" in (repeat_text_problem("{text} {weekday}") or "")
    path = write_script(tmp_path / "chats", SMALL_SCRIPT + 'repeat_text: "{text} {when}"\n')
    with pytest.raises(ScriptError) as err:
        load_script(path)
    assert "repeat_text uses {when}" in str(err.value)


# A template built from the pieces of Python's format mini-language, or any text at all.
_PIECE = st.one_of(
    st.text(max_size=6),
    st.builds(lambda field, conversion, spec: f"{{{field}{conversion}{spec}}}",
              st.sampled_from(["text", "date", "number"]),
              st.sampled_from(["", "!r", "!s", "!a", "!x"]),
              st.one_of(st.just(""), st.text(st.sampled_from(":<>^=+-# 0123456789.,_xsdfcneb%{}"),
                                             max_size=8).map(lambda s: f":{s}"))),
)
_TEMPLATES = st.one_of(st.lists(_PIECE, max_size=4).map("".join), st.text(max_size=30))
_BMP = st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_TEMPLATES, text=st.text(max_size=50), number=st.integers(0, 10**6),
       day=st.dates())
def test_any_repeat_text_is_refused_in_one_line_or_formats_every_session(
    template: str, text: str, number: int, day: date
) -> None:
    problem = repeat_text_problem(template)
    if problem is not None:
        assert "repeat_text" in problem and "\n" not in problem
        return
    out = unique_text(template, text, datetime.combine(day, datetime.min.time()), number)
    # Bounded, whatever the widths asked for: !a writes a character as at most 10.
    assert len(out) <= len(template) + 10 * len(text) + 4 * (MAX_FIELD_WIDTH + 20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.one_of(_TEMPLATES, st.text(_BMP, max_size=20)))
def test_a_script_with_any_repeat_text_loads_or_is_refused_with_a_script_error(
    template: str
) -> None:
    # On X, which refuses repeats, the length check formats every post with the template
    # while the script loads: where {number:s} raised ValueError out of `check`.
    text = chat_script("[x]").replace("{id}", "test") + f"repeat_text: {json.dumps(template)}\n"
    try:
        script = load_script("test.yaml", text=text)
    except ScriptError as exc:
        assert repeat_text_problem(template) is None or any(
            "repeat_text" in i.message for i in exc.issues)
        return
    assert unique_text(script.model.repeat_text, "Q1 text", datetime(2027, 1, 6), 12)


@pytest.mark.parametrize(("template", "says"), [
    ("{text} {number:s}", "Unknown format code 's'"),
    ("{text:>9999999999999999999}", "too wide"),
    ("{text} {number:c}", "repeat_text"),
    ("{text:{number}}", "holds another field"),
    ("{text!x}", "repeat_text"),
])
def test_a_format_spec_the_values_cannot_take_is_refused_at_load(
    tmp_path: Path, template: str, says: str
) -> None:
    path = write_script(tmp_path / "chats", chat_script("[x]") + f"repeat_text: '{template}'\n")
    with pytest.raises(ScriptError) as err:
        load_script(path)
    assert says in str(err.value)
