"""Sessions that fell due while the bot was down: joined late while the hour is open,
recorded as missed once it has passed. Handled on purpose, and said so in the archive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.app import App
from bot.archive import Archive
from bot.clock import FakeClock


async def settle(predicate, rounds: int = 500) -> None:
    """Let the loop run (fake time stands still) until the predicate holds."""
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0.005)


async def test_join_late_or_record_missed(settings, small_script) -> None:
    # The chat has been known since 1 November; the bot was down until 20:02 on the 25th,
    # two minutes into that evening's (five-minute) session.
    Archive(settings.archive.path).upsert_chat(
        chat_id="test", title="Test chat", hashtag="#TestChat", timezone="Europe/London",
        path="chats/test.yaml", digest="x", now=datetime(2026, 11, 1, tzinfo=UTC))
    clock = FakeClock(datetime(2026, 11, 25, 20, 2, 30, tzinfo=UTC))
    app = App(settings, scripts=[small_script], platform_override=["memory"],
              with_web=False, clock=clock)
    await app.start()
    try:
        sessions = app.archive.sessions(chat_id="test")
        missed = [s for s in sessions if s.status == "missed"]
        assert [s.scheduled_start.day for s in missed] == [4, 11, 18]
        assert all(any(e["kind"] == "missed" for e in app.archive.session_log(s.id))
                   for s in missed)
        live = app.live_session("test")
        assert live is not None
        session = app.archive.session(live)
        assert session.joined_late and session.scheduled_start.day == 25
        assert any(e["kind"] == "joined_late" for e in app.archive.session_log(live))

        platform = app.chats["test"].platforms["memory"]

        def posted() -> list[str]:
            return [p.text.split()[0] for p in platform.posts]

        # What fell due before 20:02:30 goes out at once, in order; the rest on time.
        await settle(lambda: len(posted()) >= 3)
        assert posted() == ["Welcome", "Q1", "Q2"]
        await clock.run_for(20)
        await settle(lambda: False, rounds=20)
        assert posted() == ["Welcome", "Q1", "Q2"]  # Q3 is due at 20:03, not yet
        await clock.run_for(20)
        await settle(lambda: len(posted()) >= 4)
        assert posted() == ["Welcome", "Q1", "Q2", "Q3"]
        await clock.run_for(60)
        await asyncio.wait_for(app.host_tasks[live], 5)
        assert platform.posts[-1].text.startswith("Thanks")
        # A second start (or a replayed job) does not create the session again.
        await app.on_session_due("test", session.scheduled_start)
        assert len(app.archive.sessions(chat_id="test")) == 4
    finally:
        await app.stop()
