"""The Publisher: every render goes through it, in its worker thread, with the settings.

The proof that a big render never holds up a live chat is made deterministic, without a
wall clock: the render is made to wait, inside the publisher's worker, until the live web
room's next question has been posted. Were the render on the event loop, that post could
never happen (the host posts from the same loop) and the render would never finish.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import publishing
from bot.app import App
from bot.clock import FakeClock
from bot.publishing import Published, Publisher
from bot.testing.crowd import archived_session
from tests.web.conftest import advance_until, make_script, make_settings, until

MESSAGES = 10_000


def sent(bot: App, session_id: int, key: str) -> bool:
    return any(i.key == key and i.status == "sent" for i in bot.archive.items(session_id))


async def test_a_10k_message_render_does_not_hold_up_a_due_post_in_the_web_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
    script = make_script(tmp_path)  # the web room; Q1 falls due one minute in
    bot = App(make_settings(tmp_path), clock=clock, scripts=[script], with_scheduler=False,
              with_web=False)
    await bot.start()
    try:
        old = archived_session(bot.archive, script, MESSAGES,
                               start=clock.now() - timedelta(days=7))
        live = await bot.start_session(script.id)
        await until(lambda: sent(bot, live, "welcome"), what="the welcome")

        loop_thread = threading.current_thread()
        rendering, q1_posted = threading.Event(), threading.Event()
        render_threads: list[threading.Thread] = []
        real_render = publishing.publish_session

        def render_then_wait_for_q1(*args: Any, **kwargs: Any) -> Published:
            render_threads.append(threading.current_thread())
            rendering.set()
            result = real_render(*args, **kwargs)  # the real 10k-message render
            # Hold the render open until the live room has posted Q1. On the event loop
            # this wait could never end: Q1 is posted by that same loop.
            if not q1_posted.wait(timeout=120):
                raise AssertionError("Q1 was never posted while the transcript rendered")
            return result

        monkeypatch.setattr(publishing, "publish_session", render_then_wait_for_q1)
        render = asyncio.create_task(bot.publisher.publish(old))
        assert await asyncio.to_thread(rendering.wait, 120), "the render never started"

        await advance_until(clock, lambda: sent(bot, live, "q1"), what="Q1 posted")
        assert not render.done()  # Q1 went out while the render was still running
        q1_posted.set()
        published = await render
        hosted = [m for m in bot.archive.messages(live) if m.is_host and "Q1" in m.text]
    finally:
        await bot.stop()

    assert published.messages == MESSAGES
    assert (published.directory / "transcript.html").is_file()
    assert render_threads and render_threads[0] is not loop_thread
    assert render_threads[0].name.startswith("publisher")
    assert [m.platform for m in hosted] == ["web"]  # Q1 went out in the live web room


async def test_every_render_uses_the_configured_windows_in_the_one_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    threads: set[str] = set()

    def fake_render(archive: Any, session_id: int, transcripts_dir: Path,
                    **kwargs: Any) -> Published:
        calls.append({"session": session_id, **kwargs})
        threads.add(threading.current_thread().name)
        return Published(session_id, transcripts_dir, (), 0)

    monkeypatch.setattr(publishing, "publish_session", fake_render)
    publisher = Publisher(tmp_path / "archive.db", tmp_path / "transcripts", lead_in_minutes=7,
                          late_window_minutes=33)
    try:
        await asyncio.gather(*(publisher.publish(n) for n in range(1, 6)))
        publisher.publish_now(6, formats=("md",), out_dir=tmp_path / "out")
    finally:
        publisher.close()
    assert sorted(c["session"] for c in calls) == [1, 2, 3, 4, 5, 6]
    assert len(threads) == 2 and threading.current_thread().name in threads  # worker + here
    assert {(c["lead_in_minutes"], c["late_window_minutes"]) for c in calls} == {(7, 33)}
    assert calls[-1]["formats"] == ("md",) and calls[-1]["out_dir"] == tmp_path / "out"


def test_the_publisher_reads_its_windows_from_the_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings = settings.model_copy(update={"host": settings.host.model_copy(
        update={"lead_in_minutes": 5, "late_window_minutes": 45})})
    publisher = Publisher.from_settings(settings)
    assert (publisher.lead_in_minutes, publisher.late_window_minutes) == (5, 45)
    assert publisher.archive_path == settings.archive.path
    assert publisher.transcripts_dir == settings.archive.transcripts_dir


def test_a_rehearsal_claims_what_was_said_while_it_ran_but_stored_after_it_ended(
    tmp_path: Path,
) -> None:
    """An answer still in a collector's batch when the close goes out is stored with no
    session; the rehearsal's render gives it back, but nothing from before or after it."""
    from bot.archive import Archive
    from bot.records import Author, Event, Message

    archive = Archive(tmp_path / "archive.db")
    start = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    sid = archive.create_session(
        chat_id="test", title="T", hashtag="#T", timezone="Europe/London",
        scheduled_start=start, duration_minutes=5, platforms=["memory"], items=[],
        rehearsal=True, pace=60,
    )
    archive.update_session(sid, status="ended", ended_at=start + timedelta(seconds=5))

    def said(mid: str, seconds: float) -> Event:
        message = Message("memory", mid, Author("memory", "u1", "Ann"), f"A1 said {mid}",
                          start + timedelta(seconds=seconds))
        return Event("created", "memory", mid, message.created, message)

    archive.record_events([said("before", -60), said("during", 4.9), said("after", 600)],
                          chat_id="test")
    session = archive.session(sid)
    claimed = publishing.claim_window(archive, session, lead_in_minutes=15,
                                      late_window_minutes=120)
    assert claimed == 1
    assert [m.id for m in archive.messages(sid)] == ["during"]
    archive.close()
