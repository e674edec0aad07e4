"""When chats happen, and the APScheduler jobs that start them.

Recurrence is computed in the chat's own time zone, one occurrence at a time: the
Wednesday 20:00 London chat is at 20:00 local on both sides of each clock change (19:00 UTC
in summer, 20:00 UTC in winter). Rather than trusting a cron trigger across DST, we plan
explicit date jobs for the next few days and re-plan daily and on every reload; job ids are
derived from (chat, start), so re-planning replaces jobs instead of duplicating them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.script import DAYS, ChatScript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Occurrence:
    """One session of a chat: its start and end in UTC, and its start in the chat's zone."""

    chat_id: str
    start: datetime  # UTC
    end: datetime  # UTC
    local_start: datetime  # in the chat's zone

    @property
    def key(self) -> str:
        """The chat and start time, unique per occurrence (job ids are made from it)."""
        return f"{self.chat_id}:{self.start.isoformat()}"


def occurrences(script: ChatScript, after: datetime, count: int = 5) -> list[Occurrence]:
    """The next `count` occurrences that end after `after` (so a running one is included)."""
    out = []
    for occ in _iter_occurrences(script, after - script.duration):
        if occ.end > after:
            out.append(occ)
            if len(out) >= count:
                break
    return out


def occurrences_between(script: ChatScript, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence starting at or after `start` and before `end`, in order."""
    out = []
    for occ in _iter_occurrences(script, start):
        if occ.start >= end:
            break
        out.append(occ)
    return out


def _iter_occurrences(script: ChatScript, after: datetime) -> Iterator[Occurrence]:
    sch = script.model.schedule
    zone = script.zone
    skip = set(sch.skip)
    if sch.once is not None:
        once = sch.once
        local = once.replace(tzinfo=zone) if once.tzinfo is None else once.astimezone(zone)
        occ = _make(script, local)
        if occ.start >= after:
            yield occ
        return
    assert sch.weekly is not None
    weekday = DAYS.index(sch.weekly.day)
    day = max(after.astimezone(zone).date() - timedelta(days=1), sch.first or date.min)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while sch.last is None or day <= sch.last:
        if day not in skip:
            local = datetime.combine(day, sch.weekly.start, tzinfo=zone)
            occ = _make(script, local)
            if occ.start >= after:
                yield occ
        day += timedelta(days=7)


def _make(script: ChatScript, local: datetime) -> Occurrence:
    start = local.astimezone(UTC)
    return Occurrence(script.id, start, start + script.duration, local)


# -- APScheduler wiring ---------------------------------------------------------------------

# APScheduler persists jobs by reference to an importable function with picklable
# arguments, so jobs call these module-level functions, which hand over to the running bot.
_handlers: dict[str, Callable[..., Awaitable[object]]] = {}


async def fire_session(chat_id: str, start_iso: str) -> None:
    """The session job: hand the chat and start to the running bot (logged if none is)."""
    handler = _handlers.get("session")
    if handler is None:
        log.warning("session job fired with no bot running; ignored")
        return
    await handler(chat_id, datetime.fromisoformat(start_iso))


async def fire_reminder(chat_id: str, start_iso: str, before_seconds: float) -> None:
    """The reminder job: hand it to the running bot, if there is one."""
    handler = _handlers.get("reminder")
    if handler is not None:
        await handler(chat_id, datetime.fromisoformat(start_iso), before_seconds)


async def fire_replan() -> None:
    """The periodic re-plan job: ask the running bot, if there is one, to plan again."""
    handler = _handlers.get("replan")
    if handler is not None:
        await handler()


class ChatScheduler:
    """Plans session and reminder jobs into a persistent SQLite job store."""

    def __init__(
        self,
        jobs_db: Path,
        *,
        on_session: Callable[[str, datetime], Awaitable[None]],
        on_reminder: Callable[[str, datetime, float], Awaitable[None]],
        on_replan: Callable[[], Awaitable[object]],
        horizon_days: int = 8,
    ) -> None:
        # Imported here: APScheduler brings SQLAlchemy (a third of a second), and commands
        # that only need occurrences (imports, calendars) should not pay for it.
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        jobs_db.parent.mkdir(parents=True, exist_ok=True)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{jobs_db}")},
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.horizon = timedelta(days=horizon_days)
        _handlers.update(session=on_session, reminder=on_reminder, replan=on_replan)

    def start(self) -> None:
        """Start the scheduler, with a re-plan every six hours."""
        self.scheduler.start()
        self.scheduler.add_job(
            fire_replan, "interval", hours=6, id="replan", replace_existing=True,
            misfire_grace_time=None,
        )

    def shutdown(self) -> None:
        """Stop the scheduler without waiting for running jobs; jobs no longer reach the bot."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        _handlers.clear()

    def plan(self, scripts: list[ChatScript], now: datetime) -> dict[str, int]:
        """Make the job store hold exactly the jobs these scripts need over the horizon."""
        wanted: dict[str, tuple] = {}
        for script in scripts:
            for occ in occurrences_between(script, now - script.duration, now + self.horizon):
                if occ.end <= now:
                    continue
                grace = int((occ.end - occ.start).total_seconds())
                wanted[f"session:{occ.key}"] = (
                    fire_session, occ.start, (script.id, occ.start.isoformat()), grace,
                )
                for before in script.reminders:
                    at = occ.start - before
                    if at > now:
                        wanted[f"reminder:{occ.key}:{int(before.total_seconds())}"] = (
                            fire_reminder, at,
                            (script.id, occ.start.isoformat(), before.total_seconds()), 300,
                        )
        existing = {job.id for job in self.scheduler.get_jobs()}
        removed = 0
        for job_id in existing:
            if job_id.startswith(("session:", "reminder:")) and job_id not in wanted:
                self.scheduler.remove_job(job_id)
                removed += 1
        for job_id, (func, at, args, grace) in wanted.items():
            self.scheduler.add_job(
                func, "date", run_date=at, args=args, id=job_id, replace_existing=True,
                # A session missed while the bot was down may still be joined while its hour
                # is open; the handler decides between joining late and recording it missed.
                misfire_grace_time=grace,
            )
        return {"jobs": len(wanted), "removed": removed}

    def jobs(self) -> list[tuple[str, datetime]]:
        """Each planned job's id and next run time, soonest first."""
        return sorted(
            ((job.id, job.next_run_time) for job in self.scheduler.get_jobs()
             if job.next_run_time is not None),
            key=lambda pair: pair[1],
        )
