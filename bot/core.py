"""The running bot's core: loads chats, hosts sessions, has transcripts published.

It loads scripts, starts platforms and collectors, schedules and hosts sessions.

It starts and stops things and knows no platform's details: adapters are built through
the registry and get `PlatformServices` (never this object); the /chat commands and the
web room reach it only through the `BotControl` protocol. The web application is built on
top of it (bot/app.py), so nothing here imports the web application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.archive import Archive
from bot.chat_runtime import BotError, ChatRuntime, ChatRuntimes
from bot.clock import Clock
from bot.control_client import ensure_moderator_token
from bot.held_posts import HoldPolicy
from bot.host import ControlError, RetryPolicy, SessionHost, session_pace
from bot.platforms.base import PlatformServices
from bot.publishing import Publisher
from bot.recovery import Recovery
from bot.reminders import mirror_schedule, remind
from bot.schedule import ChatScheduler, Occurrence, occurrences, occurrences_between
from bot.screening import PolicyProblem, Screening
from bot.script import ChatScript, ScriptIssue
from bot.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Alert", "BotError", "ChatRuntime", "Core"]

REHEARSAL_END_SECONDS = 60  # how long a due session waits for a rehearsal to wind up


@dataclass
class Alert:
    """Something moderators must know about, raised during a session."""

    at: datetime
    session_id: int | None
    text: str


class Core(ChatRuntimes, Recovery):
    """Chats, sessions, platforms, the scheduler and publishing: everything but the web."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        scripts: Sequence[ChatScript] | None = None,
        platform_override: Sequence[str] | None = None,
        with_scheduler: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.archive = Archive(settings.archive.path)
        self.transcripts_dir = Path(settings.archive.transcripts_dir)
        self._resumed: set[int] = set()  # sessions a crash interrupted, hosted again
        self._fixed_scripts = list(scripts) if scripts is not None else None
        self.platform_override = tuple(platform_override or ())
        self.with_scheduler = with_scheduler
        self.chats: dict[str, ChatRuntime] = {}
        self._reloading = asyncio.Lock()
        self.script_issues: list[ScriptIssue] = []
        self.hosts: dict[int, SessionHost] = {}
        self.host_tasks: dict[int, asyncio.Task[None]] = {}
        self.alerts: list[Alert] = []
        self.scheduler: ChatScheduler | None = None
        self.moderator_token = ensure_moderator_token(settings)
        self.stopped = asyncio.Event()
        self._background: set[asyncio.Task[object]] = set()
        self.publisher = Publisher.from_settings(settings)
        self.screening = Screening(settings, self.archive, self.clock, self.hosts, self._alert)
        # Live views (the web room) hear about published transcripts and alerts.
        self.session_listeners: list[Callable[[int | None, dict[str, Any]], Awaitable[None]]] = []
        # What every adapter is lent: never this object, only what it needs.
        self.services = PlatformServices(
            settings=settings, clock=self.clock, archive=self.archive,
            live_session=self.live_session, screen=self.screening.screen_now, control=self,
        )

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the chats, start their platforms, the scheduler and unfinished sessions."""
        try:
            self.screening.start()
        except PolicyProblem as exc:
            raise BotError(str(exc)) from None
        await self._load_chats()
        await self._start_front()
        for runtime in self.chats.values():
            await self._start_chat(runtime)
        if self.with_scheduler:
            self.scheduler = ChatScheduler(
                Path(self.settings.scheduler.jobs_db),
                on_session=self.on_session_due, on_reminder=self.on_reminder,
                on_replan=self.replan, horizon_days=self.settings.scheduler.horizon_days,
            )
            self.scheduler.start()
            await self.replan()
            await self.reconcile(self.clock.now())
        await self.resume_unfinished()
        await self.publish_unshared()

    async def stop(self) -> None:
        """Stop cleanly, leaving sessions resumable.

        Hosts leave their sessions resumable, collectors flush, every write finishes before
        the archive closes.
        """
        for host in self.hosts.values():
            host.shutdown()
        if self.host_tasks:
            await asyncio.wait(list(self.host_tasks.values()), timeout=10)
        for task in list(self._background):
            task.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        for runtime in self.chats.values():
            for collector in runtime.collectors:
                await collector.stop()
            for platform in runtime.platforms.values():
                with contextlib.suppress(Exception):
                    await platform.stop()
        await self._stop_front()
        await asyncio.to_thread(self.publisher.close)  # a render in progress finishes
        self.archive.close()
        self.stopped.set()

    async def _start_front(self) -> None:
        """What faces people (the web application) starts here, before the chats."""

    async def _stop_front(self) -> None:
        """And stops here, before the archive closes."""

    # -- chats (loading and reloading: bot/chat_runtime.py) -------------------------------

    async def _republish_recent(self, chat_id: str) -> None:
        """Render again the sessions that ended while the bot was down.

        A backfill after a gap may bring late replies to them.
        """
        window = timedelta(minutes=self.settings.host.late_window_minutes)
        for session in self.archive.sessions(chat_id=chat_id, statuses=("ended",)):
            if session.ended_at and self.clock.now() - session.ended_at <= window:
                await self.publish(session.id)

    async def replan(self) -> dict[str, int]:  # also the scheduler's periodic job
        """Plan every chat's jobs afresh and mirror the schedule on the platforms."""
        if self.scheduler is None:
            return {"jobs": 0}
        result = self.scheduler.plan(
            [c.script for c in self.chats.values() if not c.removed], self.clock.now())
        await self.sync_platform_schedules()
        return result

    async def sync_platform_schedules(self) -> None:
        """Platforms that mirror the schedule (Discord events) see the next few sessions."""
        for runtime in self.chats.values():
            if runtime.removed:
                continue
            await mirror_schedule(runtime.script, runtime.platforms, self.clock.now(),
                                  self.settings.web.public_url)

    def upcoming(self, count: int = 1) -> list[Occurrence]:
        """The next `count` sessions of every chat, soonest first."""
        now = self.clock.now()
        out = []
        for runtime in self.chats.values():
            if not runtime.removed:
                out.extend(occurrences(runtime.script, now, count))
        return sorted(out, key=lambda o: o.start)

    # -- sessions --------------------------------------------------------------------------

    def live_session(self, chat_id: str) -> int | None:
        """The id of the chat's session being hosted right now, if any."""
        for session_id, host in self.hosts.items():
            if host.chat_id == chat_id and not self.host_tasks[session_id].done():
                return session_id
        return None

    async def start_session(self, chat_id: str, *, occurrence: Occurrence | None = None,
                            pace: float = 1.0, rehearsal: bool = False) -> int:
        """Create (or find) the session and host it in the background."""
        pace = session_pace(pace)
        runtime = self.chats.get(chat_id)
        if runtime is None or runtime.removed:
            raise ControlError(f"no chat '{chat_id}' is loaded; check chats/ or the chat id")
        if not runtime.platforms:  # nothing could be posted: never host it as if it were
            raise ControlError(f"chat '{chat_id}' has no platform running; see the log")
        live = self.live_session(chat_id)
        if live is not None and live in self._resumed:  # `start --now` again after a crash
            self._resumed.discard(live)
            return live
        if live is not None:
            raise ControlError(f"chat '{chat_id}' already has a live session; stop it first")
        script = runtime.script
        now = self.clock.now()
        start = occurrence.start if occurrence else now
        session_id = self.archive.create_session(
            chat_id=chat_id, title=script.title, hashtag=script.hashtag,
            timezone=script.model.timezone, scheduled_start=start,
            duration_minutes=int(script.duration.total_seconds() // 60),
            platforms=list(runtime.platforms), items=script.timeline(),
            rehearsal=rehearsal, pace=pace, host_name=script.model.host,
            tag_style=script.model.tag_style,
        )
        session = self.archive.session(session_id)
        if session.status in ("ended", "missed", "cancelled"):
            raise ControlError(f"session {session_id} has already {session.status}")
        if self.archive.session_origin(session_id) is None:
            # Live sessions keep the script's wall times even when joined late.
            self.archive.update_session(session_id, origin=start)
            if occurrence and now - occurrence.start > timedelta(minutes=1):
                self.archive.update_session(session_id, joined_late=1)
                self.archive.log_session(
                    session_id, "joined_late",
                    f"the bot joined {(now - occurrence.start).total_seconds() / 60:.0f} min "
                    "after the start and posts what is still due", now)
                log.warning("joining %s late; posting what is still due", occurrence.key)
        self._host(session_id, runtime)
        return session_id

    def _host(self, session_id: int, runtime: ChatRuntime) -> None:
        s = self.settings.host
        host = SessionHost(
            self.archive, session_id, runtime.platforms, clock=self.clock,
            retry=RetryPolicy(s.retry_attempts, s.retry_base_seconds, HoldPolicy(
                s.held_retry_seconds, s.held_retry_cap_seconds, s.held_limit_hours)),
            on_alert=self._alert,
            repeat_text=runtime.script.model.repeat_text)
        self.hosts[session_id] = host
        task = asyncio.create_task(self._run_host(host), name=f"session:{session_id}")
        self.host_tasks[session_id] = task

    async def _run_host(self, host: SessionHost) -> None:
        try:
            await host.run()
        except Exception:
            log.exception("session %s failed; it stays resumable", host.session_id)
            await self._alert(host.session_id, "the session host failed; see the log")
            return
        if self.archive.session(host.session_id).status != "ended":
            return  # shutting down: resumed on the next start
        runtime = self.chats[host.chat_id]
        for collector in runtime.collectors:
            await collector.backfill()
        await self.publish(host.session_id)
        self._spawn(self._late_sweep(host.session_id))
        # A reload during the session may have left it a change of platforms, or its drop.
        await self._settle_chat(host.chat_id, ending=host.session_id)

    async def _late_sweep(self, session_id: int) -> None:
        """Collect late replies after the close, then render again."""
        session = self.archive.session(session_id)
        minutes = self.settings.host.late_window_minutes
        await self.clock.sleep(minutes * 60 / session.pace)
        runtime = self.chats.get(session.chat_id)
        for collector in runtime.collectors if runtime is not None else ():
            await collector.backfill()
        await self.publish(session_id)

    async def publish(self, session_id: int) -> None:
        """Render (in the publisher's worker), tell live views, share on the platforms once."""
        try:
            published = await self.publisher.publish(session_id)
        except Exception:
            log.exception("rendering session %s failed", session_id)
            await self._alert(session_id, "the transcript could not be rendered; see the log")
            return
        for callback in self.session_listeners:
            with contextlib.suppress(Exception):
                await callback(session_id, {"type": "published",
                                            "dir": str(published.directory)})
        session = self.archive.session(session_id)
        runtime = self.chats.get(session.chat_id)
        base = self.settings.web.public_url.rstrip("/")
        link = f"{base}/archive/{session_id}" if base else None
        if runtime is not None and not self._published_once(session_id):
            for name, platform in runtime.platforms.items():
                try:
                    await platform.publish_transcript(published.files, link)
                except Exception as exc:
                    log.warning("%s: could not share the transcript: %s", name, exc)

    def _published_once(self, session_id: int) -> bool:
        """Share the transcript on the platforms once; later renders only update files."""
        done = any(e["kind"] == "shared" for e in self.archive.session_log(session_id))
        if not done:
            self.archive.log_session(session_id, "shared", "transcript shared on platforms",
                                     self.clock.now())
        return done

    # -- scheduler callbacks ---------------------------------------------------------------

    async def on_session_due(self, chat_id: str, start: datetime) -> None:
        """The scheduler's call at a session's start: host it unless it is already hosted."""
        runtime = self.chats.get(chat_id)
        if runtime is None or runtime.removed:
            return
        occ = next((o for o in occurrences_between(runtime.script, start - timedelta(seconds=1),
                                                    start + timedelta(seconds=1))), None)
        if occ is None:
            log.warning("a session job for %s at %s no longer matches the script", chat_id, start)
            return
        if self.clock.now() >= occ.end:
            return
        existing = self.archive.session_by_occurrence(occ.key)
        if existing is not None and existing.id in self.hosts:
            return
        live = self.live_session(chat_id)
        if live is not None and self.archive.session(live).rehearsal:
            await self._end_rehearsal(live, occ)
        try:
            await self.start_session(chat_id, occurrence=occ)
        except ControlError as exc:
            log.error("could not start %s: %s", occ.key, exc)
            await self._alert(None, f"the session of {chat_id} due at {occ.start:%H:%M} UTC "
                                    f"could not start: {exc}")

    async def _end_rehearsal(self, session_id: int, occ: Occurrence) -> None:
        """The real session is due: the chat's rehearsal ends now, without its close."""
        why = (f"the scheduled session due at {occ.start:%H:%M} UTC takes precedence over "
               "this rehearsal")
        log.warning("ending rehearsal %s of %s: %s", session_id, occ.chat_id, why)
        await self._alert(session_id, f"rehearsal ended: {why}")
        self.hosts[session_id].end_now(why)
        # Its host finishes the write in progress and publishes the rehearsal's transcript.
        await asyncio.wait({self.host_tasks[session_id]}, timeout=REHEARSAL_END_SECONDS)

    async def on_reminder(self, chat_id: str, start: datetime, before_seconds: float) -> None:
        """A reminder job fired: post it on the chat's platforms."""
        runtime = self.chats.get(chat_id)
        if runtime is not None and not runtime.removed:
            await remind(runtime.script, runtime.platforms, start, before_seconds,
                         self.settings.web.public_url)

    # -- control ---------------------------------------------------------------------------

    def control(self, command: str, minutes: float | None = None, *, chat_id: str | None = None,
                session_id: int | None = None, actor: str = "moderator") -> str:
        """Pause, resume, skip, extend or stop the live session; returns what was done."""
        host = self._select_host(chat_id, session_id)
        return host.control(command, minutes, actor=actor)

    def _select_host(self, chat_id: str | None, session_id: int | None) -> SessionHost:
        live = {sid: h for sid, h in self.hosts.items() if not self.host_tasks[sid].done()}
        if session_id is not None:
            if session_id not in live:
                raise ControlError(f"session {session_id} is not live")
            return live[session_id]
        if chat_id is not None and chat_id not in self.chats:
            raise ControlError(f"no chat '{chat_id}' is loaded; the bot hosts: "
                               f"{', '.join(sorted(self.chats)) or 'none'}")
        if chat_id is not None:
            live = {sid: h for sid, h in live.items() if h.chat_id == chat_id}
        if not live:
            where = f" of {chat_id!r}" if chat_id else ""
            raise ControlError(f"no session{where} is live right now")
        if len(live) > 1:
            raise ControlError("several sessions are live; name one with --chat")
        return next(iter(live.values()))

    async def _alert(self, session_id: int | None, text: str) -> None:
        self.alerts.append(Alert(self.clock.now(), session_id, text))
        for callback in self.session_listeners:
            with contextlib.suppress(Exception):
                await callback(session_id, {"type": "alert", "text": text})

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

