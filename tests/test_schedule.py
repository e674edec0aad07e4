"""Schedules: local time is kept across daylight-saving changes; jobs never duplicate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.schedule import ChatScheduler, occurrences, occurrences_between
from bot.script import load_script
from tests.conftest import SMALL_SCRIPT, write_script


def script_with(tmp_path: Path, **changes: str):
    text = SMALL_SCRIPT
    for old, new in changes.items():
        text = text.replace(old, new)
    return load_script(write_script(tmp_path, text))


def test_wednesday_2000_london_across_october_change(small_script) -> None:
    # Clocks go back on Sunday 25 October 2026: BST (UTC+1) before, GMT after.
    occ = occurrences(small_script, datetime(2026, 10, 15, tzinfo=UTC), 3)
    assert [o.start for o in occ] == [
        datetime(2026, 10, 21, 19, 0, tzinfo=UTC),
        datetime(2026, 10, 28, 20, 0, tzinfo=UTC),
        datetime(2026, 11, 4, 20, 0, tzinfo=UTC),
    ]
    assert {o.local_start.hour for o in occ} == {20}


def test_wednesday_2000_london_across_march_change(small_script) -> None:
    # Clocks go forward on Sunday 28 March 2027.
    occ = occurrences(small_script, datetime(2027, 3, 20, tzinfo=UTC), 2)
    assert [o.start for o in occ] == [
        datetime(2027, 3, 24, 20, 0, tzinfo=UTC),
        datetime(2027, 3, 31, 19, 0, tzinfo=UTC),
    ]
    assert all(o.local_start.hour == 20 and o.local_start.minute == 0 for o in occ)


def test_sunday_chat_on_the_change_day_itself(tmp_path: Path) -> None:
    script = script_with(tmp_path, wednesday="sunday", **{'"20:00"': '"10:00"'})
    occ = occurrences(script, datetime(2026, 10, 17, tzinfo=UTC), 2)
    assert [o.start for o in occ] == [
        datetime(2026, 10, 18, 9, 0, tzinfo=UTC),  # BST
        datetime(2026, 10, 25, 10, 0, tzinfo=UTC),  # GMT from 02:00 that morning
    ]


def test_new_york_keeps_local_time_on_its_own_change_dates(tmp_path: Path) -> None:
    script = script_with(tmp_path, **{"Europe/London": "America/New_York"})
    # US clocks go back on 1 November 2026, a week after the UK's.
    occ = occurrences(script, datetime(2026, 10, 27, tzinfo=UTC), 2)
    assert [o.start for o in occ] == [
        datetime(2026, 10, 29, 0, 0, tzinfo=UTC),  # Wed 28 Oct 20:00 EDT
        datetime(2026, 11, 5, 1, 0, tzinfo=UTC),  # Wed 4 Nov 20:00 EST
    ]


def test_skip_first_last_and_running_session(tmp_path: Path) -> None:
    script = script_with(
        tmp_path, **{"  duration: 5m": "  duration: 5m\n  first: 2026-11-04\n"
                     "  last: 2026-11-25\n  skip: [2026-11-11]"})
    starts = [o.start.date() for o in occurrences(script, datetime(2026, 10, 1, tzinfo=UTC), 10)]
    assert starts == [date(2026, 11, 4), date(2026, 11, 18), date(2026, 11, 25)]
    # A session that has started but not ended is still "next".
    running = occurrences(script, datetime(2026, 11, 4, 20, 2, tzinfo=UTC), 1)
    assert running[0].start == datetime(2026, 11, 4, 20, 0, tzinfo=UTC)


def test_once_schedule(tmp_path: Path) -> None:
    text = SMALL_SCRIPT.replace('  weekly:\n    day: wednesday\n    start: "20:00"\n',
                                '  once: "2026-12-02 19:30"\n')
    script = load_script(write_script(tmp_path, text))
    occ = occurrences_between(script, datetime(2026, 1, 1, tzinfo=UTC),
                              datetime(2027, 1, 1, tzinfo=UTC))
    assert [o.start for o in occ] == [datetime(2026, 12, 2, 19, 30, tzinfo=UTC)]


async def test_plan_is_persistent_and_never_duplicates(tmp_path: Path, small_script) -> None:
    fired: list = []

    async def on_session(chat, start):
        fired.append((chat, start))

    async def nothing(*args):
        return None

    jobs_db = tmp_path / "jobs.db"
    now = datetime(2026, 10, 19, 12, 0, tzinfo=UTC)
    reminded = small_script.model.model_copy(update={"reminders": ("24h", "1h")})
    script = small_script.__class__(reminded, small_script.path, small_script.digest)
    sched = ChatScheduler(jobs_db, on_session=on_session, on_reminder=nothing,
                          on_replan=nothing, horizon_days=10)
    sched.scheduler.start(paused=True)
    first = sched.plan([script], now)
    second = sched.plan([script], now)
    ids = [job_id for job_id, _ in sched.jobs()]
    assert first["jobs"] == second["jobs"] == 6  # 2 sessions + 2 reminders each
    assert len(ids) == len(set(ids)) == 6
    assert sched.jobs()[0][1] == datetime(2026, 10, 20, 19, 0, tzinfo=UTC)  # 24h reminder
    sched.shutdown()

    # A new scheduler on the same file sees the same jobs: schedules survive restarts.
    again = ChatScheduler(jobs_db, on_session=on_session, on_reminder=nothing,
                          on_replan=nothing, horizon_days=10)
    again.scheduler.start(paused=True)
    assert sorted(i for i, _ in again.jobs()) == sorted(ids)
    # Removing the chat's reminders re-plans without leaving stale jobs behind.
    result = again.plan([small_script], now)
    assert result["removed"] == 4
    assert len(again.jobs()) == 2
    again.shutdown()


async def test_session_job_fires_into_the_handler(tmp_path: Path, small_script) -> None:
    import asyncio

    from bot.schedule import fire_session

    got = asyncio.Event()
    seen = []

    async def on_session(chat, start):
        seen.append((chat, start))
        got.set()

    async def nothing(*args):
        return None

    sched = ChatScheduler(tmp_path / "jobs.db", on_session=on_session, on_reminder=nothing,
                          on_replan=nothing)
    sched.start()
    at = datetime.now(UTC) + timedelta(milliseconds=200)
    sched.scheduler.add_job(fire_session, "date", run_date=at, args=("test", at.isoformat()),
                            id="session:test:probe")
    await asyncio.wait_for(got.wait(), 10)
    sched.shutdown()
    assert seen == [("test", at)]
