"""Collects what people say on a platform into the archive: live, and by backfill after a gap.

Events are batched (a flood of answers becomes a few transactions, not hundreds) and
tagged with the chat's live session, if any. Backfill cursors are stored in the archive
after each batch, so a restart resumes where the bot stopped and a replay is harmless.

The live stream is supervised: when a platform's `events()` fails, it is restarted with
exponential backoff after a backfill of what was missed, and when it stays down the
moderators are told (an alert, and a line in the live session's log). Gaps a platform
reports itself (X: a cursor older than the search window) are told the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot.archive import Archive
from bot.clock import Clock
from bot.hosts import is_host
from bot.platforms.base import Platform
from bot.records import Event

log = logging.getLogger(__name__)

BATCH_SIZE = 200
BATCH_SECONDS = 0.2

# Called after each stored batch: moderation screening, live views, ...
Listener = Callable[[Platform, Sequence[Event], int | None], Awaitable[None]]
# Tells the moderators: (live session id or None, one plain line).
Alert = Callable[[int | None, str], Awaitable[None]]

RESTART_BASE_SECONDS = 1.0
RESTART_CAP_SECONDS = 300.0
ALERT_AFTER_FAILURES = 3  # consecutive failed restarts before the moderators are told
HEALTHY_SECONDS = 60.0  # a stream that ran this long before failing counts as recovered
GAP_CHECK_SECONDS = 5.0  # when nothing arrives, platform-reported gaps are told this often


class Collector:
    """Feeds one platform's events for one chat into the archive, in batches."""

    def __init__(
        self,
        archive: Archive,
        chat_id: str,
        platform: Platform,
        *,
        live_session: Callable[[], int | None],
        clock: Clock | None = None,
        listeners: Sequence[Listener] = (),
        on_alert: Alert | None = None,
        hosts: frozenset[str] = frozenset(),
        names: Callable[[str], str] | None = None,
    ) -> None:
        self.archive = archive
        # Screens the display names a platform sends (bot.moderation.shown_names): what is
        # stored and shown is the screened name; the payload keeps the platform's.
        self.names = names
        # Co-hosts' accounts (handles or ids, lower-cased): what they post live is stored as
        # the host's, never as a participant's answer.
        self.hosts = set(hosts)
        self.chat_id = chat_id
        self.platform = platform
        self.live_session = live_session
        self.clock = clock or Clock()
        self.listeners = list(listeners)
        self.on_alert = on_alert
        self.stored = 0
        self.restarts = 0  # how many times the live stream was restarted
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def start(self) -> None:
        """Start collecting in a background task."""
        name = f"collect:{self.chat_id}:{self.platform.name}"
        self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        """Flush what was received, then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
        self._task.cancel()

    async def _run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            while True:
                batch: list[Event] = []
                try:
                    item = await asyncio.wait_for(self._queue.get(), GAP_CHECK_SECONDS)
                except TimeoutError:
                    # Quiet: a gap the platform found (X's window) must not wait for a reply.
                    await self._report_gaps()
                    continue
                if item is None:
                    return
                batch.append(item)
                deadline = asyncio.get_running_loop().time() + BATCH_SECONDS
                while len(batch) < BATCH_SIZE:
                    timeout = deadline - asyncio.get_running_loop().time()
                    if timeout <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self._queue.get(), timeout)
                    except TimeoutError:
                        break
                    if item is None:
                        await self.store(batch)
                        return
                    batch.append(item)
                await self.store(batch)
        finally:
            reader.cancel()

    async def _read(self) -> None:
        """Run the platform's stream; restart it when it fails, never die quietly."""
        failures = 0
        down_since: datetime | None = None
        told = False
        while not self._stopping:
            began = self.clock.monotonic()
            try:
                async for event in self.platform.events():
                    self._queue.put_nowait(event)
                    if told:  # the stream delivers again: say so once
                        await self._tell(f"{self.platform.name}: collecting again")
                        told = False
                return  # a clean end: the platform was stopped
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a platform bug must not take the whole bot down
                reason = str(exc) or type(exc).__name__
                log.exception("%s: the event stream failed", self.platform.name)
            if self.clock.monotonic() - began >= HEALTHY_SECONDS:
                failures, down_since = 0, None
            failures += 1
            down_since = down_since or self.clock.now()
            delay = min(RESTART_CAP_SECONDS, RESTART_BASE_SECONDS * 2 ** (failures - 1))
            if failures >= ALERT_AFTER_FAILURES and not told:
                told = True
                await self._tell(
                    f"{self.platform.name}: collecting replies has been failing since "
                    f"{down_since:%H:%M} UTC ({reason}); retrying in {delay:.0f} s, then less "
                    f"often (at most every {RESTART_CAP_SECONDS / 60:.0f} min), and what was "
                    "missed is backfilled when it recovers"
                )
            await self.clock.sleep(delay)
            if self._stopping:
                return
            self.restarts += 1
            await self.backfill()

    async def _tell(self, text: str) -> None:
        """An alert for the moderators, kept in the live session's log as well."""
        session_id = self.live_session()
        log.warning("%s", text)
        if session_id is not None:
            self.archive.log_session(session_id, "collection", text, self.clock.now())
        if self.on_alert is not None:
            try:
                await self.on_alert(session_id, text)
            except Exception:
                log.exception("could not deliver an alert")

    async def _report_gaps(self) -> None:
        for gap in self.platform.take_gaps():
            await self._tell(f"{self.platform.name}: {gap}")

    async def store(self, events: Sequence[Event]) -> int:
        """Store a batch, save the platform's cursor, tell the listeners; returns rows changed."""
        session_id = self.live_session()
        events = self.shown_names(events)
        changed = self._record(events, session_id)
        self.stored += changed
        cursor = self.platform.live_cursor()
        if cursor:
            self.archive.save_cursor(self.chat_id, self.platform.name, cursor, self.clock.now())
        for listener in self.listeners:
            try:
                await listener(self.platform, events, session_id)
            except Exception:
                log.exception("a listener failed on a batch of %d events", len(events))
        await self._report_gaps()
        return changed

    def shown_names(self, events: Sequence[Event]) -> list[Event]:
        """The events with each participant's display name screened (hosts and bots as sent).

        The web room screens (and refuses) names itself as people join.
        """
        names = self.names
        if names is None or self.platform.name == "web":
            return list(events)
        out = []
        for event in events:
            msg = event.message
            if msg is not None and not msg.author.is_bot and not (
                    self.hosts and is_host(msg, self.hosts, by_display_name=False)):
                shown = names(msg.author.name)
                if shown != msg.author.name:
                    event = replace(event, message=replace(
                        msg, author=replace(msg.author, name=shown)))
            out.append(event)
        return out

    def _record(self, events: Sequence[Event], session_id: int | None) -> int:
        """Store a batch, the hosts' posts marked as the host's."""
        if not self.hosts:
            return self.archive.record_events(events, session_id=session_id, chat_id=self.chat_id)
        hosted = [e for e in events if e.message is not None
                  and is_host(e.message, self.hosts, by_display_name=False)]
        hosted_ids = {id(e) for e in hosted}
        others = [e for e in events if id(e) not in hosted_ids]
        changed = self.archive.record_events(others, session_id=session_id, chat_id=self.chat_id)
        if hosted:
            changed += self.archive.record_events(hosted, session_id=session_id,
                                                  chat_id=self.chat_id, host=True)
        return changed

    async def backfill(self) -> int:
        """Fetch what happened since the stored cursor; store it, then advance the cursor."""
        cursor = self.archive.cursor(self.chat_id, self.platform.name)
        try:
            result = await self.platform.backfill(cursor)
        except Exception as exc:  # the platform errors: keep the cursor, try again later
            log.warning("%s: backfill failed (%s); will retry", self.platform.name, exc)
            return 0
        changed = 0
        events = self.shown_names(list(result.events))
        for start in range(0, len(events), BATCH_SIZE):
            batch = events[start : start + BATCH_SIZE]
            changed += self._record(batch, None)
            for listener in self.listeners:
                await listener(self.platform, batch, None)
        self.archive.save_cursor(self.chat_id, self.platform.name, result.cursor, self.clock.now())
        await self._report_gaps()
        if changed:
            log.info("%s: backfill stored %d events", self.platform.name, changed)
        return changed
