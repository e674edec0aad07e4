"""The running bot: reminders go out, and a changed script is rescheduled without
duplicating jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import App
from bot.clock import FakeClock
from tests.conftest import SMALL_SCRIPT, write_script

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday; the chat is Wednesday 20:00


async def started(settings, tmp_path, text: str = SMALL_SCRIPT) -> App:
    write_script(tmp_path / "chats", text)
    app = App(settings, platform_override=["memory"], with_web=False, clock=FakeClock(NOW))
    await app.start()
    return app


async def test_reminder_is_posted_with_local_time(settings, tmp_path) -> None:
    app = await started(settings, tmp_path)
    try:
        await app.on_reminder("test", datetime(2026, 11, 25, 20, 0, tzinfo=UTC), 3600)
        platform = app.chats["test"].platforms["memory"]
        text = platform.posts[-1].text  # type: ignore[attr-defined]
        assert text == ("Reminder: Test chat starts in 1 hour (Wednesday 25 November 20:00 "
                        "London time). #TestChat")
    finally:
        await app.stop()


async def test_changed_script_is_rescheduled_without_duplicates(settings, tmp_path) -> None:
    app = await started(settings, tmp_path)
    try:
        assert app.scheduler is not None
        sessions = [j for j, _ in app.scheduler.jobs() if j.startswith("session:")]
        assert sessions == ["session:test:2026-11-25T20:00:00+00:00"]
        # Add reminders and move the chat to Thursday 19:00: jobs follow, none left behind.
        write_script(tmp_path / "chats", SMALL_SCRIPT.replace(
            "platforms: [memory]", "platforms: [memory]\nreminders: [24h, 1h]").replace(
            "wednesday", "thursday").replace('"20:00"', '"19:00"'))
        await app.reload()
        await app.reload()  # twice: still no duplicates
        jobs = [j for j, _ in app.scheduler.jobs()]
        assert sorted(jobs) == sorted([
            "session:test:2026-11-26T19:00:00+00:00",
            "reminder:test:2026-11-26T19:00:00+00:00:86400",
            "reminder:test:2026-11-26T19:00:00+00:00:3600",
            "replan",
        ])
        # A script broken by an edit is reported and the chat keeps its last good schedule.
        write_script(tmp_path / "chats", SMALL_SCRIPT.replace("timezone:", "tz:"))
        await app.reload()
        assert any("unknown key 'tz'" in str(issue) for issue in app.script_issues)
        assert "session:test:2026-11-26T19:00:00+00:00" in [j for j, _ in app.scheduler.jobs()]
        # A script removed from chats/ takes its jobs with it.
        (tmp_path / "chats" / "test.yaml").unlink()
        await app.reload()
        assert [j for j, _ in app.scheduler.jobs()] == ["replan"]
        assert "test" not in app.chats
    finally:
        await app.stop()
