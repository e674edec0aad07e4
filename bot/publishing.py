"""After a session: attribute every message, then render its transcript and the series index.

Always rebuilt from the archive, never from memory, so a restart, a late backfill or a
moderation decision simply means "publish again". `Publisher` is the one way to do it:
the bot, the web pages, Discord's /chat transcript and the CLI all go through it, so every
render uses the configured lead-in and late windows, runs one at a time (they share the
output files) and, from async code, runs in its worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from array import array
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.archive import Archive, SessionRow
from bot.archive.records import ItemRow, StoredMessage
from bot.archive.rows import placement, with_attribution
from bot.archive.transcript_reads import keys_at, placings_in_order, session_placings
from bot.attribution import Attribution, attribute
from bot.attribution_stream import OutOfOrder, attribute_in_order
from bot.gc_pause import gc_paused
from bot.quick_exit import keep_until_exit

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.transcript.layout import Source
    from bot.transcript.model import Transcript

log = logging.getLogger(__name__)


FORMATS = ("html", "md", "json", "csv")


@dataclass(frozen=True)
class Published:
    """What one render wrote."""

    session_id: int
    directory: Path
    files: tuple[Path, ...]
    messages: int


def session_dir(transcripts_dir: Path, session: SessionRow) -> Path:
    """transcripts/<chat>/<YYYY-MM-DD>/ in the chat's own zone; rehearsals are kept apart."""
    local = session.scheduled_start.astimezone(ZoneInfo(session.timezone))
    name = local.strftime("%Y-%m-%d")
    if session.rehearsal:
        name += f"-rehearsal-{session.id}"
    return transcripts_dir / session.chat_id / name


def claim_window(archive: Archive, session: SessionRow, *, lead_in_minutes: int,
                 late_window_minutes: int) -> int:
    """Give the session the chat's unassigned messages from inside its window (backfill)."""
    if session.rehearsal:
        # A rehearsal owns only what was said while it ran: no lead-in, no late window. It
        # still claims those, because an answer waiting in a collector's batch when the
        # close went out is stored after the session ended, with no session of its own.
        if session.ended_at is None:
            return 0
        return archive.assign_session(session.id, session.chat_id, session.scheduled_start,
                                      session.ended_at, session.platforms)
    start = session.scheduled_start - timedelta(minutes=lead_in_minutes)
    end_base = session.ended_at or session.scheduled_start + timedelta(
        minutes=session.duration_minutes)
    end = end_base + timedelta(minutes=late_window_minutes)
    return archive.assign_session(session.id, session.chat_id, start, end, session.platforms)


def attribute_session(archive: Archive, session_id: int) -> int:
    """Attribute every message of the session to its question; how many were attributed."""
    session = archive.session(session_id)
    return len(attributed_messages(archive, session, archive.items(session_id)))


def attributed_messages(archive: Archive, session: SessionRow, items: Sequence[ItemRow],
                        messages: list[StoredMessage] | None = None) -> list[StoredMessage]:
    """The session's messages (`messages`, or read now), attributed, in time order.

    The archive is written only where the attribution changed: a re-render after a
    moderation decision or a late backfill rewrites a handful of rows, not the session.
    """
    if messages is None:
        messages = archive.messages(session.id)
    result = attribute(messages, items, tag_style=session.tag_style)
    changed = {}
    out = []
    for m in messages:
        a = result[m.key]
        if placement(m) != placement(a):
            changed[m.key] = a
            m = with_attribution(m, a.question, a.section, a.method, a.confidence,
                                 a.extra_questions)
        out.append(m)
    if changed:
        archive.save_attribution(session.id, changed)
    return out


def attribute_in_place(archive: Archive, session: SessionRow, items: Sequence[ItemRow],
                       *, batch: int = 10_000) -> None:
    """Attribute the session in the archive, writing only what changed, in flat memory.

    What `attributed_messages` does, without holding the session: one pass in time order
    (`attribute_in_order`) that remembers which messages changed, then their new placing
    written `batch` at a time. Corrupt reply chains (a reply older than its parent) need
    the whole session at once: then it is attributed from compact `Placing`s instead.
    """
    conn = archive.db.conn
    changed = array("i")  # positions whose placing changes
    placings: list[Attribution] = []  # their new placings (a few distinct objects)
    rows = placings_in_order(conn, session.id)
    try:
        for i, m, a in attribute_in_order(rows, items, tag_style=session.tag_style):
            if placement(m) != placement(a):
                changed.append(i)
                placings.append(a)
    except OutOfOrder as why:
        rows.close()  # its statement finished before anything is written
        log.info("session %s: %s; attributing it all at once", session.id, why)
        whole = session_placings(conn, session.id)
        result = attribute(whole, items, tag_style=session.tag_style)
        fixes = {p.key: result[p.key] for p in whole if placement(p) != placement(result[p.key])}
        del whole, result
        if fixes:
            archive.save_attribution(session.id, fixes)
        return
    for k in range(0, len(changed), batch):
        keys = keys_at(conn, changed[k:k + batch])
        archive.save_attribution(session.id, dict(zip(keys, placings[k:k + batch],
                                                      strict=True)))


# Sessions up to this many messages are read into memory once (the renderers then walk
# entries made once, the fastest way); bigger ones are read back from the archive in
# batches while each renderer walks them, so memory stays flat (~300 MB at a million).
IN_MEMORY_LIMIT = 100_000


def attributed_transcript(archive: Archive, session: SessionRow, *,
                          in_memory_limit: int = IN_MEMORY_LIMIT) -> Transcript:
    """Attribute the session, then build its transcript: in memory, or from the archive.

    Up to `in_memory_limit` messages the session is read once into memory; above it, it is
    attributed in place and the transcript reads the archive in batches while walked.
    """
    from bot.transcript.build import assemble, item_post_ids, shown_clock
    from bot.transcript.read_ahead import ReadAhead, read_ahead
    from bot.transcript.side_by_side import Ahead, can_fork
    from bot.transcript.sources import ArchiveSource, MemorySource

    items = archive.items(session.id)
    post_keys = item_post_ids(items)
    ahead: Ahead[ReadAhead] | None = None
    try:
        if archive.message_count(session.id) <= in_memory_limit:
            messages = archive.messages(session.id)
            # Reading the texts (for the summary, the HTML and the Markdown) needs nothing
            # attribution decides: where the process may fork, it runs on another core
            # while the session is attributed and the skeleton built. Elsewhere (the bot's
            # publisher thread) the summary and renderers read them as they go, as before.
            if can_fork():
                ahead = Ahead(partial(read_ahead, messages, post_keys, session.hashtag,
                                      shown_clock(session)),
                              fork=True)
            source: Source = MemorySource(attributed_messages(archive, session, items, messages),
                                          post_keys, archive.reach(session.id))
            del messages
        else:
            attribute_in_place(archive, session, items)
            source = ArchiveSource(archive, session.id, post_keys)
        return assemble(
            session,
            items,
            source,
            previous_participants=archive.participants_before(session.chat_id,
                                                              session.scheduled_start),
            moderation_counts=archive.moderation_counts(session.id),
            roles=archive.roles(session.chat_id),
            ahead=ahead,
        )
    finally:
        if ahead is not None:
            ahead.cancel()  # a no-op once its value came back


@gc_paused  # the whole render: reading, attribution and building allocate per message too
def publish_session(
    archive: Archive,
    session_id: int,
    transcripts_dir: Path,
    *,
    formats: tuple[str, ...] = FORMATS,
    out_dir: Path | None = None,
    lead_in_minutes: int = 15,
    late_window_minutes: int = 120,
    in_memory_limit: int = IN_MEMORY_LIMIT,
    own_archive: bool = False,
) -> Published:
    """Claim, attribute, render and write one session's transcript (call it from a thread).

    Only `Publisher` calls this: it picks the thread, the lock and the settings, and says
    whether `archive` is opened for this alone (`own_archive`: its connection may then be
    replaced, for a transcript written in forked lanes; see write_transcript).
    """
    from bot.transcript import write_transcript

    session = archive.session(session_id)
    claim_window(archive, session, lead_in_minutes=lead_in_minutes,
                 late_window_minutes=late_window_minutes)
    transcript = attributed_transcript(archive, session, in_memory_limit=in_memory_limit)
    directory = out_dir or session_dir(transcripts_dir, session)
    files = write_transcript(transcript, directory, formats=formats, own_archive=own_archive)
    keep_until_exit(transcript)  # a command that ends now leaves it to the OS, unfreed
    if out_dir is None:
        publish_indexes(archive, transcripts_dir, session.chat_id)
    log.info("transcript of session %s written to %s", session_id, directory)
    return Published(session_id, directory, tuple(files), archive.message_count(session_id))


def publish_indexes(archive: Archive, transcripts_dir: Path, chat_id: str) -> Path:
    """Write the chat's series index (every ended session, with returning participants)."""
    from bot.transcript import SeriesEntry, render_series_index

    stats = archive.session_stats()
    chat_dir = transcripts_dir / chat_id
    entries = []
    seen: set[tuple[str, str]] = set()
    sessions = [s for s in archive.sessions(chat_id=chat_id) if s.status == "ended"]
    people = archive.participants_by_session(chat_id)
    for s in sessions:
        messages, participants = stats.get(s.id, (0, 0))
        current = people.get(s.id, set())
        returning = len(current & seen) if not s.rehearsal else 0
        if not s.rehearsal:
            seen |= current
        entries.append(SeriesEntry(
            session_id=s.id, date=s.scheduled_start.astimezone(ZoneInfo(s.timezone)).date(),
            rehearsal=s.rehearsal, messages=messages, participants=participants,
            returning_participants=returning,
            link=f"{session_dir(transcripts_dir, s).name}/transcript.html",
        ))
    title = sessions[-1].title if sessions else chat_id
    return render_series_index(chat_id, title, entries, chat_dir)


class Publisher:
    """Renders and publishes transcripts: in one worker thread, one at a time.

    Every render uses the configured lead-in and late windows and opens its own SQLite
    connection (WAL lets it read while the bot keeps writing), so nothing it does touches
    the event loop's connection.
    """

    def __init__(self, archive_path: Path, transcripts_dir: Path, *, lead_in_minutes: int = 15,
                 late_window_minutes: int = 120) -> None:
        self.archive_path = Path(archive_path)
        self.transcripts_dir = Path(transcripts_dir)
        self.lead_in_minutes = lead_in_minutes
        self.late_window_minutes = late_window_minutes
        self._worker: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()  # awaiting callers queue here, not in the executor
        self._blocking = threading.Lock()  # and a sync caller never overlaps a worker render

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        """The publisher `tweetchat run` and every CLI command use."""
        return cls(Path(settings.archive.path), Path(settings.archive.transcripts_dir),
                   lead_in_minutes=settings.host.lead_in_minutes,
                   late_window_minutes=settings.host.late_window_minutes)

    async def publish(self, session_id: int, *, formats: tuple[str, ...] = FORMATS,
                      out_dir: Path | None = None) -> Published:
        """Render in the worker thread; the event loop only waits."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publisher")
        loop = asyncio.get_running_loop()
        async with self._lock:
            render = partial(self.publish_now, session_id, formats=formats, out_dir=out_dir)
            return await loop.run_in_executor(self._worker, render)

    def publish_now(self, session_id: int, *, formats: tuple[str, ...] = FORMATS,
                    out_dir: Path | None = None) -> Published:
        """Render in this thread (the CLI, or the worker): never call it on the event loop."""
        with self._blocking:
            archive = Archive(self.archive_path)
            try:
                return publish_session(
                    archive, session_id, self.transcripts_dir, formats=formats, out_dir=out_dir,
                    lead_in_minutes=self.lead_in_minutes,
                    late_window_minutes=self.late_window_minutes, own_archive=True)
            finally:
                archive.close()

    async def certificate(self, session_id: int, platform: str, user: str
                          ) -> tuple[str, str]:
        """One participant's certificate (file name, HTML), rendered in the worker thread."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publisher")
        loop = asyncio.get_running_loop()
        async with self._lock:
            render = partial(self._certificate, session_id, platform, user)
            return await loop.run_in_executor(self._worker, render)

    def certificate_now(self, session_id: int, platform: str, user: str, out_dir: Path) -> Path:
        """Write certificate-<user>.html into `out_dir` in this thread (the CLI)."""
        from bot.transcript.write import write_atomic

        name, page = self._certificate(session_id, platform, user)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / name
        write_atomic(path, page.encode())
        return path

    def _certificate(self, session_id: int, platform: str, user: str) -> tuple[str, str]:
        with self._blocking:
            archive = Archive(self.archive_path)
            try:
                return build_certificate(archive, session_id, platform, user)
            finally:
                archive.close()

    def close(self) -> None:
        """Let a render in progress finish, then stop the worker."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None


def build_certificate(archive: Archive, session_id: int, platform: str, user: str, *,
                      in_memory_limit: int = IN_MEMORY_LIMIT) -> tuple[str, str]:
    """One participant's CPD certificate: (file name, HTML). Blocking: call off the loop.

    Built from the archive like every transcript, so it shows exactly what the public
    transcript shows of them (redactions applied, hidden and deleted messages left out).
    Raises CertificateError when the person posted nothing public in the session.
    """
    from bot.transcript.certificate import (
        certificate_filename,
        find_participant,
        render_certificate,
    )

    # Attributed as publishing does (the same grouping), read the same way.
    transcript = attributed_transcript(archive, archive.session(session_id),
                                       in_memory_limit=in_memory_limit)
    person = find_participant(transcript, platform, user)
    return certificate_filename(person.author_id), render_certificate(transcript, person)

