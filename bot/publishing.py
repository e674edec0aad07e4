"""After a session: attribute every message, then render its transcript and the series index.

Always rebuilt from the archive, never from memory, so a restart, a late backfill or a
moderation decision simply means "publish again".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.archive import Archive, SessionRow
from bot.attribution import attribute

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
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
        return 0  # rehearsals only own what was said while they ran
    start = session.scheduled_start - timedelta(minutes=lead_in_minutes)
    end_base = session.ended_at or session.scheduled_start + timedelta(
        minutes=session.duration_minutes)
    end = end_base + timedelta(minutes=late_window_minutes)
    return archive.assign_session(session.id, session.chat_id, start, end, session.platforms)


def attribute_session(archive: Archive, session_id: int) -> int:
    session = archive.session(session_id)
    messages = archive.messages(session_id)
    result = attribute(messages, archive.items(session_id), tag_style=session.tag_style)
    archive.save_attribution(session_id, result)
    return len(result)


def publish_session(
    archive: Archive,
    session_id: int,
    transcripts_dir: Path,
    *,
    formats: tuple[str, ...] = ("html", "md", "json", "csv"),
    out_dir: Path | None = None,
    lead_in_minutes: int = 15,
    late_window_minutes: int = 120,
) -> Published:
    from bot.transcript import build_transcript, write_transcript

    session = archive.session(session_id)
    claim_window(archive, session, lead_in_minutes=lead_in_minutes,
                 late_window_minutes=late_window_minutes)
    attribute_session(archive, session_id)
    transcript = build_transcript(
        session,
        archive.items(session_id),
        archive.messages(session_id),
        previous_participants=archive.participants_before(session.chat_id,
                                                          session.scheduled_start),
        moderation_counts=archive.moderation_counts(session_id),
    )
    directory = out_dir or session_dir(transcripts_dir, session)
    files = write_transcript(transcript, directory, formats=formats)
    if out_dir is None:
        publish_indexes(archive, transcripts_dir, session.chat_id)
    log.info("transcript of session %s written to %s", session_id, directory)
    return Published(session_id, directory, tuple(files), archive.message_count(session_id))


def publish_indexes(archive: Archive, transcripts_dir: Path, chat_id: str) -> Path:
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
