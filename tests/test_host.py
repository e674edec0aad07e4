"""A whole paced session on the memory platform, with a crowd, checked end to end."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.app import App
from bot.clock import FakeClock
from bot.host import ControlError
from bot.platforms.memory import MemoryPlatform
from bot.publishing import session_dir
from bot.testing.crowd import Crowd

PACE = 240  # a script minute takes a quarter of a second


async def wait_for(predicate, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def bot(settings, small_script):
    # The default policy, spam checks included: a rehearsal is screened on script time, so
    # a crowd squeezed into seconds is not mistaken for a flood.
    app = App(settings, scripts=[small_script], platform_override=["memory"],
              with_scheduler=False, with_web=False)
    await app.start()
    yield app
    if not app.stopped.is_set():
        await app.stop()


def room(bot: App) -> MemoryPlatform:
    platform = bot.chats["test"].platforms["memory"]
    assert isinstance(platform, MemoryPlatform)
    return platform


async def test_paced_session_with_a_crowd(bot: App, settings) -> None:
    platform = room(bot)
    crowd = Crowd(platform, ["Ana", "Ben", "Cai", "Dee", "Eve", "Fay"], hashtag="#TestChat")
    session_id = await bot.start_session("test", pace=PACE, rehearsal=True)
    for number in (1, 2, 3):
        await wait_for(lambda n=number: any(p.text.startswith(f"Q{n} ") for p in platform.posts))
        post = next(p for p in platform.posts if p.text.startswith(f"Q{number} "))
        # Paused while the crowd answers, so a loaded machine cannot let the next question
        # overtake this one's answers (resume shifts what is pending by the pause).
        bot.control("pause", chat_id="test")
        crowd.answer(number, question_post_id=post.id)
        if number == 2:
            leak = platform.say("Gus", "A2 my patient, NHS number 943 476 5919, agreed")
        if number == 3:
            crowd.late_answer(1)
        bot.control("resume", chat_id="test")
    await asyncio.wait_for(bot.host_tasks[session_id], 30)
    await wait_for(lambda: (session_dir(bot.transcripts_dir, bot.archive.session(session_id))
                            / "transcript.json").exists())

    # The host posted every item once, in order.
    assert [p.text.split()[0] for p in platform.posts] == ["Welcome", "Q1", "Q2", "Q3", "Thanks"]
    session = bot.archive.session(session_id)
    assert session.status == "ended" and session.rehearsal

    # Every message the crowd said is in the archive; edits final, deletes kept and flagged.
    stored = {m.id: m for m in bot.archive.messages(session_id) if not m.is_host}
    assert set(stored) == set(crowd.ledger.said) | {leak.id}
    for mid, text in crowd.ledger.edited.items():
        assert stored[mid].text == text and stored[mid].edited is not None
    for mid in crowd.ledger.deleted:
        assert stored[mid].deleted
    # Attribution matches what people meant, by tag, reply and late tag.
    assert stored[leak.id].question == 2
    for mid, number in crowd.ledger.answers.items():
        if mid not in crowd.ledger.deleted:
            assert stored[mid].question == number, (stored[mid].text, stored[mid].method)

    # The JSON transcript nests replies under their answers and leaves deletions out.
    directory = session_dir(bot.transcripts_dir, session)
    data = json.loads((directory / "transcript.json").read_text())
    # Confidentiality first: the identifier is masked in every format, the answer kept.
    for name in ("transcript.json", "transcript.html", "transcript.md", "transcript.csv"):
        body = (directory / name).read_text()
        assert "943 476 5919" not in body and "9434765919" not in body, name
    assert bot.archive.message("memory", leak.id).redacted_text is not None
    assert leak.id in set(_message_ids(data))
    ids = set(_message_ids(data))
    assert ids  # the walk found the messages
    assert not ids & crowd.ledger.deleted
    assert set(crowd.ledger.said) - crowd.ledger.deleted <= ids
    names = {p.name for p in directory.iterdir()}
    assert {"transcript.html", "transcript.md", "transcript.csv"} <= names
    assert "rehearsal" in (directory / "transcript.html").read_text().lower()


def _message_ids(node) -> list[str]:
    """Every message id in a transcript JSON (objects that have an author and a text)."""
    found = []
    if isinstance(node, dict):
        if "id" in node and "text" in node and "author" in node:
            found.append(node["id"])
        for value in node.values():
            found.extend(_message_ids(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_message_ids(value))
    return found


async def test_failed_post_is_retried_then_reported(bot: App, settings) -> None:
    platform = room(bot)
    platform.fail_next_posts = 2  # two outages, then it recovers
    alerts: list = []
    bot.session_listeners.append(lambda sid, ev: _collect(alerts, ev))
    session_id = await bot.start_session("test", pace=PACE * 4, rehearsal=True)
    await asyncio.wait_for(bot.host_tasks[session_id], 30)
    assert len(platform.posts) == 5  # nothing lost, nothing twice
    rows = bot.archive.outbox(session_id, "welcome")
    assert rows[0]["status"] == "sent" and rows[0]["attempts"] == 3


async def _collect(alerts: list, event: dict) -> None:
    alerts.append(event)


async def test_post_that_never_goes_out_is_reported_not_dropped(settings, small_script) -> None:
    app = App(settings.model_copy(update={"host": settings.host.model_copy(
        update={"retry_attempts": 2, "retry_base_seconds": 0.01})}),
        scripts=[small_script], platform_override=["memory"], with_scheduler=False,
        with_web=False)
    await app.start()
    try:
        platform = room(app)
        platform.fail_next_posts = 2  # the welcome fails both attempts
        session_id = await app.start_session("test", pace=PACE * 4, rehearsal=True)
        await asyncio.wait_for(app.host_tasks[session_id], 30)
        assert [a.text for a in app.alerts] == [
            "welcome could not be posted on memory: memory: simulated outage"]
        items = {i.key: i.status for i in app.archive.items(session_id)}
        assert items["welcome"] == "failed" and items["q1"] == "sent"
        kinds = [e["kind"] for e in app.archive.session_log(session_id)]
        assert "post_failed" in kinds
    finally:
        await app.stop()


async def test_controls_change_the_remaining_due_times(settings, small_script) -> None:
    clock = FakeClock()
    app = App(settings, scripts=[small_script], platform_override=["memory"],
              with_scheduler=False, with_web=False, clock=clock)
    await app.start()
    try:
        platform = room(app)
        session_id = await app.start_session("test")
        await clock.run_for(1)
        assert len(platform.posts) == 1  # the welcome
        # pause at 0:30 for 10 minutes: Q1 (due 1:00) moves to 10:30... wait, 11:00
        await clock.run_for(29)
        app.control("pause", chat_id="test")
        with pytest.raises(ControlError):
            app.control("pause")
        await clock.run_for(600, step=5)
        assert len(platform.posts) == 1
        app.control("resume")
        due = {i.key: i.due_offset for i in app.archive.items(session_id)}
        assert due["q1"] == pytest.approx(660, abs=6)
        # skip: Q1 goes out now instead of at 11:00.
        app.control("skip")
        await clock.run_for(2)
        assert platform.posts[-1].text.startswith("Q1 ")
        # extend 5: everything left moves 5 minutes later.
        before = {i.key: i.due_offset for i in app.archive.items(session_id)}
        app.control("extend", 5)
        after = {i.key: i.due_offset for i in app.archive.items(session_id)}
        assert after["q2"] - before["q2"] == 300 and after["close"] - before["close"] == 300
        # stop: remaining questions skipped, the close goes out now.
        app.control("stop")
        await asyncio.wait_for(app.host_tasks[session_id], 5)
        assert [p.text.split()[0] for p in platform.posts] == ["Welcome", "Q1", "Thanks"]
        statuses = {i.key: i.status for i in app.archive.items(session_id)}
        assert statuses == {"welcome": "sent", "q1": "sent", "q2": "skipped", "q3": "skipped",
                            "close": "sent"}
        log = [e["kind"] for e in app.archive.session_log(session_id)]
        for kind in ("control:pause", "control:resume", "control:skip", "control:extend",
                     "control:stop"):
            assert kind in log
        with pytest.raises(ControlError, match="no session is live"):
            app.control("pause")
    finally:
        await app.stop()


async def test_resume_in_a_rehearsal_says_the_script_minutes_it_moved(settings,
                                                                      small_script) -> None:
    clock = FakeClock()
    app = App(settings, scripts=[small_script], platform_override=["memory"],
              with_scheduler=False, with_web=False, clock=clock)
    await app.start()
    try:
        session_id = await app.start_session("test", pace=60, rehearsal=True)
        await clock.run_for(0.25)
        app.control("pause", chat_id="test")
        before = {i.key: i.due_offset for i in app.archive.items(session_id)}
        await clock.run_for(6, step=0.5)  # 6 real seconds: 6 script minutes
        detail = app.control("resume")
        after = {i.key: i.due_offset for i in app.archive.items(session_id)}
        assert after["close"] - before["close"] == pytest.approx(360)
        assert detail == "resumed: remaining posts moved 6.0 min later"  # as extend counts
        assert app.control("extend", 6) == "extended: remaining posts moved 6 min later"
        app.control("stop")
        await asyncio.wait_for(app.host_tasks[session_id], 5)
    finally:
        await app.stop()


async def test_backfill_after_a_gap_collects_what_was_missed(settings, small_script) -> None:
    app = App(settings, scripts=[small_script], platform_override=["memory"],
              with_scheduler=False, with_web=False)
    await app.start()
    platform = room(app)
    collector = app.chats["test"].collectors[0]
    await collector.stop()  # the live stream is down...
    said = [platform.say("Gus", f"A1 while down {i}").id for i in range(3)]
    assert await collector.backfill() == 3  # ...and backfill recovers everything
    assert await collector.backfill() == 0  # the cursor moved on: nothing twice
    for mid in said:
        assert app.archive.message("memory", mid) is not None
    await app.stop()


async def test_a_send_cut_short_by_a_crash_is_reconciled_not_repeated(settings,
                                                                       small_script) -> None:
    """Rows left in 'sending': if the platform's echo of the post reached the archive it
    went out (mark it sent); if not, it is sent now. Either way exactly once."""
    from bot.records import Author, Event, Message

    clock = FakeClock()
    app = App(settings, scripts=[small_script], platform_override=["memory"],
              with_scheduler=False, with_web=False, clock=clock)
    await app.start()
    try:
        platform = room(app)
        script = small_script
        sid = app.archive.create_session(
            chat_id="test", title=script.title, hashtag=script.hashtag,
            timezone="Europe/London", scheduled_start=clock.now(), duration_minutes=5,
            platforms=["memory"], items=script.timeline(), host_name="Host")
        app.archive.update_session(sid, origin=clock.now(), started_at=clock.now(),
                                   status="live")
        welcome = script.timeline()[0].text
        # The crash came after the welcome reached the platform (its echo is stored) ...
        app.archive.mark_sending(sid, "welcome", "memory")
        echo = Message("memory", "echo-1", Author("memory", "host", "Host", is_bot=True),
                       welcome, clock.now())
        app.archive.record_events([Event("created", "memory", "echo-1", clock.now(), echo)],
                                  session_id=sid, host=True)
        # ... and while Q1 was being sent, before the platform had it.
        clock.advance(61)
        app.archive.mark_sending(sid, "q1", "memory")
        app._host(sid, app.chats["test"])
        await clock.run_for(300, step=5)
        await asyncio.wait_for(app.host_tasks[sid], 5)
        texts = [p.text.split()[0] for p in platform.posts]
        assert texts == ["Q1", "Q2", "Q3", "Thanks"]  # the welcome was not posted again
        rows = {key: app.archive.outbox(sid, key)[0] for key in ("welcome", "q1")}
        assert rows["welcome"]["status"] == "sent" and rows["welcome"]["platform_id"] == "echo-1"
        assert rows["q1"]["status"] == "sent" and rows["q1"]["attempts"] == 2
    finally:
        await app.stop()


async def test_a_session_with_no_platform_marks_nothing_sent(tmp_path, small_script) -> None:
    """Nothing can be posted without a platform: every item fails, loudly, none is "sent"."""
    from datetime import UTC, datetime

    from bot.archive import Archive
    from bot.host import SessionHost

    archive = Archive(tmp_path / "archive.db")
    start = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    session_id = archive.create_session(
        chat_id="test", title="Test chat", hashtag="#TestChat", timezone="Europe/London",
        scheduled_start=start, duration_minutes=5, platforms=[],
        items=small_script.timeline(), rehearsal=True, pace=3600)
    clock = FakeClock(start)
    alerts: list[str] = []

    async def alert(_session: int, text: str) -> None:
        alerts.append(text)

    host = SessionHost(archive, session_id, {}, clock=clock, on_alert=alert)
    task = asyncio.create_task(host.run())
    while not task.done():
        await clock.run_for(1)
    await task
    items = archive.items(session_id)
    assert {i.status for i in items} == {"failed"}
    assert len(alerts) == len(items) and all("no platform to post on" in a for a in alerts)
    archive.close()
