"""Turn a stream of past messages into archived sessions, exactly as if hosted live.

Messages become rows as they stream in, and their payloads are written in batches through
the archive's bulk path; only the host's posts are kept aside as messages. The message
rows themselves are held (bounded, see held_rows) until the host's posts are grouped into
sessions and matched to the script's items (Q tags): each is then written once, with its
session and attribution. Past the bound they are written as read and updated per session.
Everything is keyed on platform ids, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.archive import Archive
from bot.archive.bulk import (
    Batch,
    attribute_into,
    attributed_row,
    claim_and_read,
    held_placing,
    import_mode,
    insert_rows,
    record_host_posts,
    split_stored,
    store_batch,
    transaction,
)
from bot.archive.rows import placement
from bot.attribution import attribute
from bot.gc_pause import collector_paused
from bot.hosts import host_names_for as host_names_for  # re-exported: importers' API
from bot.hosts import is_host as is_host
from bot.importers.held_rows import HOLD_ROWS, HeldRows
from bot.importers.matching import match_items
from bot.records import Event, Message, PostRef
from bot.schedule import occurrences_between
from bot.script import ChatScript

log = logging.getLogger(__name__)

BATCH = 5000
PROGRESS_EVERY = 1000
LEAD_IN_MINUTES = 15  # the session window, as publish.claim_window uses it
LATE_WINDOW_MINUTES = 120
SESSION_GAP = timedelta(hours=3)  # host posts further apart than this are separate sessions


@dataclass
class ImportReport:
    """What an import did: lines read, messages found and stored, bad lines, sessions."""

    read: int = 0  # lines (or records) read
    messages: int = 0  # messages found
    changed: int = 0  # rows the archive did not already have in this form
    bad_lines: list[int] = field(default_factory=list)  # each bad line once, in file order
    sessions: list[int] = field(default_factory=list)
    host_posts: int = 0
    skipped: int = 0  # records deliberately left out (retweets, empty result pages)


@dataclass(frozen=True, init=False)
class Parsed:
    """What an importer's parser yields: a message, or the number of a line it could not read."""

    line: int
    message: Message | None = None
    error: str = ""
    skipped: bool = False  # read fine but nothing to keep (a retweet): neither bad nor a message
    # A later version of a message that may already be stored (an edited tweet): stored as an
    # edit, so the archive keeps one message with the newest text and the older in its history.
    edit: bool = False

    def __init__(self, line: int, message: Message | None = None, error: str = "",
                 skipped: bool = False, edit: bool = False) -> None:
        """Set every field at once: one per message of an import (see bot.records.Author)."""
        self.__dict__.update(line=line, message=message, error=error, skipped=skipped,
                             edit=edit)


def import_stream(
    archive: Archive,
    script: ChatScript,
    parsed: Iterable[Parsed],
    *,
    platform: str,
    host_names: set[str],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Archive `parsed` messages in batches, then group the host's posts into sessions."""
    with import_mode(archive), collector_paused():
        return _import(archive, script, parsed, platform, host_names, progress)


def _import(
    archive: Archive,
    script: ChatScript,
    parsed: Iterable[Parsed],
    platform: str,
    host_names: set[str],
    progress: Callable[[int], None] | None,
) -> ImportReport:
    report = ImportReport()
    host_posts: dict[str, Message] = {}  # by id: overlapping searches repeat tweets
    edits: list[Event] = []
    last_line = None
    # Each message becomes its rows as it is read: a batch holds tuples, not messages.
    # Message rows are held until their session is known (see held_rows), up to a bound.
    batch = Batch(script.id)
    hold: list[tuple[Any, ...]] | None = []
    for item in parsed:
        # Several records may share a line (an API page holds up to 100 tweets).
        if item.line != last_line:
            last_line = item.line
            report.read += 1
            # Told every PROGRESS_EVERY lines: a progress bar's update costs more than
            # reading a message, and nobody sees a hundred thousand of them.
            if progress is not None and report.read % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
        msg = item.message
        if msg is None:
            if item.skipped:
                report.skipped += 1
            elif not report.bad_lines or report.bad_lines[-1] != item.line:
                report.bad_lines.append(item.line)
            continue
        report.messages += 1
        if is_host(msg, host_names):
            host_posts.setdefault(msg.id, msg)
        elif item.edit:
            edits.append(Event("edited", msg.platform, msg.id, msg.edited or msg.created, msg))
        else:
            batch.add(msg)
            if len(batch) >= BATCH:
                report.changed += store_batch(archive, batch, hold=hold)
                batch = Batch(script.id)
                if hold is not None and len(hold) > HOLD_ROWS:
                    # Too many to hold: written now, and the sessions update them later.
                    report.changed += insert_rows(archive, hold)
                    hold = None
    if progress is not None and report.read % PROGRESS_EVERY:
        progress(report.read % PROGRESS_EVERY)
    report.changed += store_batch(archive, batch, hold=hold)
    held = None
    if hold:
        # Messages the archive already has (a re-import) or that an edit below changes
        # are written now, as they were read; only new ones wait for their session.
        edited = {(e.platform, e.message_id) for e in edits}
        stored, new = split_stored(archive, hold)
        now = stored + [row for row in new if (row[0], row[1]) in edited]
        report.changed += insert_rows(archive, now)
        held = HeldRows([row for row in new if (row[0], row[1]) not in edited] if edited
                        else new)
        del hold, stored, new, now
    if edits:
        report.changed += archive.record_events(edits, chat_id=script.id)
    report.host_posts = len(host_posts)
    groups = _group(list(host_posts.values()))
    done = 0
    while done < len(groups):
        # One commit per BATCH rows written, not per session: each commit rewrites the
        # pages the sessions share (indexes, the full-text index's segments) in the log.
        with transaction(archive):
            rows = 0
            while done < len(groups) and rows < BATCH:
                session_id, written, touched = _session_for(archive, script, platform,
                                                            groups[done], held)
                done += 1
                report.sessions.append(session_id)
                report.changed += written
                rows += touched
    if held is not None:
        report.changed += insert_rows(archive, held.rest())  # outside every session
    return report


def _group(posts: list[Message]) -> list[list[Message]]:
    groups: list[list[Message]] = []
    for msg in sorted(posts, key=lambda m: m.created):
        if groups and msg.created - groups[-1][-1].created <= SESSION_GAP:
            groups[-1].append(msg)
        else:
            groups.append([msg])
    return groups


def _match_items(script: ChatScript, posts: list[Message]) -> dict[str, Message]:
    """Which host post is which scripted item (see bot.importers.matching)."""
    matched = match_items(script.timeline(), posts, script.model.tag_style)
    by_id = {p.id: p for p in posts}
    return {key: by_id[post.id] for key, post in matched.items()}


def _session_for(archive: Archive, script: ChatScript, platform: str,
                 posts: list[Message], held: HeldRows | None) -> tuple[int, int, int]:
    """Rebuild one session from the host's posts.

    Returns its id, the held rows written (new to the archive) and all rows written.
    """
    matched = _match_items(script, posts)
    timeline = script.timeline()
    start = _start_time(script, posts, matched)
    session_id = archive.create_session(
        chat_id=script.id, title=script.title, hashtag=script.hashtag,
        timezone=script.model.timezone, scheduled_start=start,
        duration_minutes=int(script.duration.total_seconds() // 60), platforms=[platform],
        items=timeline, host_name=script.model.host, tag_style=script.model.tag_style,
    )
    sent: list[tuple[str, PostRef, Message]] = []
    for item in timeline:
        msg = matched.get(item.key)
        if msg is None:
            continue
        # A thread counts as the item's only when the post opened it (a Discord question
        # thread, a tweet starting its own conversation). A question posted as a reply in
        # the host's thread shares the welcome's conversation: taking that as the item's
        # thread would file every reply of the evening under the last question.
        own_thread = msg.thread_id if msg.thread_id == msg.id else None
        sent.append((item.key, PostRef(platform, msg.id, thread_id=own_thread, url=msg.url), msg))
    # Host posts that are not scripted items (thanks, follow-ups) are kept as host messages.
    placed = {m.id for m in matched.values()}
    record_host_posts(archive, session_id, script.id, sent,
                      [p for p in posts if p.id not in placed])
    session = archive.session(session_id)
    last = max(p.created for p in posts)
    ended = max(last, start + script.duration)
    archive.update_session(session_id, status="ended", origin=start, started_at=start,
                           ended_at=ended, notes="imported")
    # claim_window + attribute_session, with each message rewritten once instead of twice.
    # The window also covers a host who began early (an hour off around a clock change).
    opened = min(start, min(p.created for p in posts))
    window = (opened - timedelta(minutes=LEAD_IN_MINUTES),
              ended + timedelta(minutes=LATE_WINDOW_MINUTES))
    messages, rowids, claimed = claim_and_read(archive, session_id, script.id, [platform],
                                               *window)
    mine = held.take([platform], *(t.isoformat() for t in window)) if held is not None else []
    # Repeats of one message (overlapping searches) are one message to attribute.
    unique = {(row[0], row[1]): row for row in reversed(mine)}
    placings = messages + [held_placing(row) for row in unique.values()]
    attributions = attribute(placings, archive.items(session_id), tag_style=session.tag_style)
    # Only rows that change are written: importing the same file again rewrites nothing.
    changed = {
        m.key: attributions[m.key] for m in messages
        if m.key in claimed or placement(m) != placement(attributions[m.key])
    }
    attribute_into(archive, session_id, changed, rowids)
    # Held rows are new: written once, with their session and attribution.
    written = insert_rows(archive, [attributed_row(row, session_id,
                                                   attributions[(row[0], row[1])])
                                    for row in mine])
    return session_id, written, len(mine) + len(changed)


def _start_time(script: ChatScript, posts: list[Message], matched: dict[str, Message]
                ) -> datetime:
    """The scheduled occurrence nearest the host's posts, else the welcome's time."""
    first = min(p.created for p in posts)
    for occ in occurrences_between(script, first - timedelta(hours=2), first + timedelta(hours=2)):
        if abs(occ.start - first) <= timedelta(hours=1):
            return occ.start
    if "welcome" in matched:
        return matched["welcome"].created
    # No welcome: work back from the first question's scripted offset.
    for item in script.timeline():
        if item.key in matched:
            return matched[item.key].created - timedelta(seconds=item.due_offset)
    return first
