"""A rehearsal still running when the chat's real session falls due: the real one wins.

The rehearsal ends at once (its close not posted, the reason in its log, the moderators
alerted) and the scheduled session is hosted and recorded as usual.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.clock import FakeClock
from bot.platforms.memory import MemoryPlatform
from bot.script import ChatScript
from bot.settings import Settings

DUE = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # the five-minute chat's Wednesday start


async def _started_app(settings: Settings, script: ChatScript, clock: FakeClock) -> App:
    """The bot on the memory platform with `clock`, started (no scheduler, no web room)."""
    app = App(settings, scripts=[script], platform_override=["memory"],
              with_scheduler=False, with_web=False, clock=clock)
    await app.start()
    return app


async def test_the_scheduled_session_ends_a_rehearsal_and_is_hosted(settings, small_script
                                                                     ) -> None:
    clock = FakeClock(DUE - timedelta(minutes=1))
    app = await _started_app(settings, small_script, clock)
    try:
        platform = app.chats["test"].platforms["memory"]
        assert isinstance(platform, MemoryPlatform)
        rehearsal = await app.start_session("test", pace=2, rehearsal=True)  # 2.5 minutes
        await clock.run_for(70, step=5)  # the welcome and Q1 are out
        assert app.live_session("test") == rehearsal
        await app.on_session_due("test", DUE)  # the scheduler's call at 20:00

        ended = app.archive.session(rehearsal)
        assert ended.status == "ended"
        items = {i.key: i.status for i in app.archive.items(rehearsal)}
        assert items["close"] == "skipped" and items["welcome"] == "sent"
        [end] = [e for e in app.archive.session_log(rehearsal) if e["kind"] == "ended"]
        assert "takes precedence" in end["detail"]
        assert any("rehearsal ended" in alert.text and alert.session_id == rehearsal
                   for alert in app.alerts)
        real = app.live_session("test")
        assert real is not None and real != rehearsal
        session = app.archive.session(real)
        assert not session.rehearsal and session.scheduled_start == DUE
        await clock.run_for(5 * 60, step=10)
        await asyncio.wait_for(app.host_tasks[real], 10)
        assert {i.status for i in app.archive.items(real)} == {"sent"}
        closes = [p.text for p in platform.posts if p.text.startswith("Thanks")]
        assert len(closes) == 1  # the real session's; the rehearsal's never went out
    finally:
        await app.stop()


async def test_a_real_session_in_the_way_is_an_alert_not_a_silence(settings, small_script
                                                                    ) -> None:
    clock = FakeClock(DUE - timedelta(minutes=1))
    app = await _started_app(settings, small_script, clock)
    try:
        manual = await app.start_session("test")  # someone started it by hand, not rehearsing
        await clock.run_for(60, step=5)
        await app.on_session_due("test", DUE)
        assert app.live_session("test") == manual
        assert any("could not start" in alert.text and "already has a live session"
                   in alert.text for alert in app.alerts)
    finally:
        await app.stop()
