"""What a start-up settles that a stop or a crash left unfinished (mixed into `Core`).

- Sessions left live or paused are hosted again, unless the end they actually have
  (extensions and resumed pauses included) is more than `GRACE` past; a paused session
  waits for its moderators for up to `PAUSE_KEPT` after the pause.
- Sessions that ended but whose transcript was never published and shared (a SIGKILL
  between the close and the render, a render that failed) are published now, once.
- Occurrences that passed while the bot was down are joined late, or recorded as missed.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from bot.archive import Archive, SessionRow
from bot.chat_runtime import ChatRuntime
from bot.clock import Clock
from bot.host import SessionHost
from bot.schedule import occurrences_between
from bot.settings import Settings

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)  # a session this far past its end is closed, not resumed
PAUSE_KEPT = timedelta(hours=24)  # a paused session waits this long for a resume
UNSHARED_HORIZON = timedelta(days=28)  # older unpublished sessions are left to the CLI


def closes_at(archive: Archive, session: SessionRow) -> datetime:
    """When the session's last item is due: its scheduled end, or later once extended."""
    scheduled_end = session.scheduled_start + timedelta(minutes=session.duration_minutes)
    items = archive.items(session.id)
    origin = archive.session_origin(session.id)
    if origin is None or not items:
        return scheduled_end
    last = max(item.due_offset for item in items)  # moved by extend and by resume
    return max(scheduled_end, origin + timedelta(seconds=last / session.pace))


def paused_since(archive: Archive, session_id: int) -> datetime | None:
    """When the session's current pause began, from its log."""
    pauses = [e["at"] for e in archive.session_log(session_id) if e["kind"] == "control:pause"]
    return datetime.fromisoformat(pauses[-1]) if pauses else None


class Recovery(abc.ABC):
    """Resume, publish and reconcile at start-up (see the module doc)."""

    settings: Settings
    archive: Archive
    clock: Clock
    chats: dict[str, ChatRuntime]
    hosts: dict[int, SessionHost]
    _resumed: set[int]

    @abc.abstractmethod
    def _host(self, session_id: int, runtime: ChatRuntime) -> None:
        """Host the session in the background."""

    @abc.abstractmethod
    async def publish(self, session_id: int) -> None:
        """Render the transcript and share it once."""

    @abc.abstractmethod
    async def _late_sweep(self, session_id: int) -> None:
        """Collect late replies after the close, then render again."""

    @abc.abstractmethod
    async def on_session_due(self, chat_id: str, start: datetime) -> None:
        """Host an occurrence whose hour is open."""

    @abc.abstractmethod
    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run `coro` in the background."""

    async def resume_unfinished(self) -> int:
        """Sessions left live or paused by a stop or a crash are hosted again."""
        resumed = 0
        now = self.clock.now()
        for session in self.archive.sessions(statuses=("live", "paused")):
            runtime = self.chats.get(session.chat_id)
            if runtime is None or session.id in self.hosts:
                continue
            if not session.rehearsal and self._past_resuming(session, now):
                self.archive.update_session(session.id, status="ended", ended_at=now)
                self.archive.log_session(session.id, "ended", "the bot came back after the "
                                         "session's hour; closed without posting", now)
                continue
            log.info("resuming session %s of %s", session.id, session.chat_id)
            self._resumed.add(session.id)  # claimed by a `start` of the same chat, if any
            self._host(session.id, runtime)
            resumed += 1
        return resumed

    def _past_resuming(self, session: SessionRow, now: datetime) -> bool:
        if session.status == "paused":
            since = paused_since(self.archive, session.id)
            if since is not None and now - since <= PAUSE_KEPT:
                return False  # its moderators resume or stop it, as before the restart
        return now > closes_at(self.archive, session) + GRACE

    async def publish_unshared(self) -> int:
        """Publish the sessions that ended but were never shared (see the module doc).

        "Shared" is written before the platforms are told, so a session is never announced
        twice; imported sessions (no "ended" line in their log) are not the bot's to share.
        """
        now = self.clock.now()
        count = 0
        for session in self.archive.sessions(statuses=("ended",)):
            if session.chat_id not in self.chats or session.id in self.hosts \
                    or session.ended_at is None or now - session.ended_at > UNSHARED_HORIZON:
                continue
            kinds = {e["kind"] for e in self.archive.session_log(session.id)}
            if "ended" not in kinds or "shared" in kinds:
                continue
            log.info("publishing session %s of %s: it ended but was never published",
                     session.id, session.chat_id)
            self._spawn(self._publish_late(session))
            count += 1
        return count

    async def _publish_late(self, session: SessionRow) -> None:
        await self.publish(session.id)
        window = timedelta(minutes=self.settings.host.late_window_minutes)
        if session.ended_at is not None and self.clock.now() - session.ended_at < window:
            await self._late_sweep(session.id)

    async def reconcile(self, now: datetime) -> None:
        """Occurrences that passed while the bot was down: join late or record as missed."""
        for runtime in self.chats.values():
            script = runtime.script
            first_seen = self.archive.chat_first_seen(script.id) or now
            for occ in occurrences_between(script, now - timedelta(days=28), now):
                if occ.start < first_seen:
                    continue
                existing = self.archive.session_by_occurrence(occ.key)
                if existing is not None and existing.status != "scheduled":
                    continue
                if occ.end > now:
                    await self.on_session_due(script.id, occ.start)
                else:
                    sid = self.archive.create_session(
                        chat_id=script.id, title=script.title, hashtag=script.hashtag,
                        timezone=script.model.timezone, scheduled_start=occ.start,
                        duration_minutes=int(script.duration.total_seconds() // 60),
                        platforms=list(runtime.platforms), items=script.timeline(),
                        host_name=script.model.host, tag_style=script.model.tag_style,
                        status="missed",
                    )
                    self.archive.update_session(sid, status="missed")
                    self.archive.log_session(sid, "missed", "the bot was not running during "
                                             "this session's hour", now)
                    log.warning("session %s was missed while the bot was down", occ.key)
