"""A restart resumes a session by the end it actually has, not the one it was scheduled with.

An extended session is resumed while its extended hour is open; a paused one waits for its
moderators (up to a day); a session past its real end is closed without posting, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.archive import Archive
from bot.clock import FakeClock
from bot.script import ChatScript, load_script
from tests.conftest import make_settings, write_script

START = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Wednesday 20:00, five minutes, Q1 at 1m


async def settle(predicate: Callable[[], bool], rounds: int = 500) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never held")


def statuses(app: App, session_id: int) -> dict[str, str]:
    return {item.key: item.status for item in app.archive.items(session_id)}


async def bot_at(tmp_path: Path, script: ChatScript, when: datetime) -> App:
    app = App(make_settings(tmp_path), scripts=[script], platform_override=["memory"],
              with_web=False, clock=FakeClock(when))
    await app.start()
    return app


async def interrupted(tmp_path: Path, control: str, minutes: float | None = None
                      ) -> tuple[ChatScript, int]:
    """The live session, Q1 out, then `control` applied and the bot gone: its session id."""
    script = load_script(write_script(tmp_path / "chats"))
    Archive(make_settings(tmp_path).archive.path).upsert_chat(
        chat_id="test", title="Test chat", hashtag="#TestChat", timezone="Europe/London",
        path=str(script.path), digest="x", now=datetime(2026, 11, 1, tzinfo=UTC))
    app = await bot_at(tmp_path, script, START + timedelta(seconds=70))
    session_id = app.live_session("test")
    assert session_id is not None
    await settle(lambda: statuses(app, session_id)["q1"] == "sent")
    app.control(control, minutes, chat_id="test")
    await app.stop()
    return script, session_id


async def test_an_extended_session_is_resumed_inside_its_extended_hour(tmp_path: Path) -> None:
    script, session_id = await interrupted(tmp_path, "extend", 60)
    # Back at 20:36: 31 minutes after the scheduled end, 29 before the extended close.
    app = await bot_at(tmp_path, script, START + timedelta(minutes=36))
    try:
        assert app.live_session("test") == session_id
        assert app.archive.session(session_id).status == "live"
        assert isinstance(app.clock, FakeClock)
        await app.clock.run_for(30 * 60, step=30)
        await asyncio.wait_for(app.host_tasks[session_id], 10)
        assert statuses(app, session_id) == {
            "welcome": "sent", "q1": "sent", "q2": "sent", "q3": "sent", "close": "sent"}
    finally:
        await app.stop()


async def test_an_extended_session_past_its_extended_end_is_closed(tmp_path: Path) -> None:
    script, session_id = await interrupted(tmp_path, "extend", 10)
    # The close was moved to 20:14; the bot is back at 20:45, past it and the grace.
    app = await bot_at(tmp_path, script, START + timedelta(minutes=45))
    try:
        assert app.live_session("test") is None
        log = app.archive.session_log(session_id)
        assert app.archive.session(session_id).status == "ended"
        assert "closed without posting" in [e for e in log if e["kind"] == "ended"][0]["detail"]
        assert statuses(app, session_id)["close"] == "pending"
    finally:
        await app.stop()


async def test_a_paused_session_waits_for_its_moderators_after_a_restart(tmp_path: Path) -> None:
    script, session_id = await interrupted(tmp_path, "pause")
    app = await bot_at(tmp_path, script, START + timedelta(hours=3))
    try:
        assert app.live_session("test") == session_id
        assert app.archive.session(session_id).status == "paused"
        assert statuses(app, session_id)["q2"] == "pending"
        await settle(lambda: "resumed" in [e["kind"] for e in app.archive.session_log(
            session_id)])  # its host is running again, paused
        app.control("resume", chat_id="test")
        assert isinstance(app.clock, FakeClock)
        await app.clock.run_for(5 * 60, step=30)
        await asyncio.wait_for(app.host_tasks[session_id], 10)
        assert set(statuses(app, session_id).values()) == {"sent"}
    finally:
        await app.stop()


async def test_a_session_paused_for_over_a_day_is_closed(tmp_path: Path) -> None:
    script, session_id = await interrupted(tmp_path, "pause")
    app = await bot_at(tmp_path, script, START + timedelta(hours=25))
    try:
        assert app.live_session("test") is None
        assert app.archive.session(session_id).status == "ended"
    finally:
        await app.stop()
