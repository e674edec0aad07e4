"""Turn a stream of past messages into archived sessions, exactly as if hosted live.

Messages become rows as they stream in, and their payloads are written in batches through
the archive's bulk path; only the host's posts are kept aside as messages. The message
rows themselves are held (bounded, see held_rows) until the host's posts are grouped into
sessions and matched to the script's items (Q tags): each is then written once, with its
session and attribution. Past the bound they are written as read and updated per session.
Everything is keyed on platform ids, so importing the same file twice changes nothing.

The reading (bot/importers/reading.py) may run in a forked child while this process
writes: see `import_stream`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.archive import Archive
from bot.archive.bulk import (
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
from bot.attribution import PreTagged, attribute, parse_tags
from bot.forking import can_fork, stream_from_child
from bot.gc_pause import collector_paused
from bot.hosts import host_names_for as host_names_for  # re-exported: importers' API
from bot.hosts import is_host as is_host
from bot.importers.held_rows import HOLD_ROWS, HeldRows
from bot.importers.matching import match_items
from bot.importers.parts import CHUNK_BYTES, Split, read_in_parts
from bot.importers.reading import BATCH, Advance, Parsed, Read, read_batches
from bot.records import Message, PostRef
from bot.schedule import occurrences_between
from bot.script import ChatScript

log = logging.getLogger(__name__)

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


# An input smaller than this is read in this process: forking costs more than it saves.
READ_IN_CHILD_FROM = 1 << 20
# A file an importer can read in parts (bot/importers/parts), from this size, is read by
# READERS children at once: one reader is slower than this process's writing, two are not.
READ_IN_PARTS_FROM = 2 * CHUNK_BYTES
READERS = 2


def import_stream(
    archive: Archive,
    script: ChatScript,
    parse: Callable[[Advance], Iterable[Parsed]],
    *,
    platform: str,
    host_names: set[str],
    progress: Advance | None = None,
    input_bytes: int = 0,
    fork: bool | None = None,
    split: Split | None = None,
) -> ImportReport:
    """Archive what `parse(advance)` yields in batches, then group the host's posts into sessions.

    `parse` reports its progress through `advance(n)` (bytes or records, whatever
    `progress` counts). The reading (parsing, sorting out host posts and edits, turning
    messages into rows) runs in a forked child when `fork` is true (default: for an input
    of `input_bytes` >= READ_IN_CHILD_FROM where `forking.can_fork()`), while this process
    writes the batches the child sends; in this process otherwise. Both store the same.
    With `split` (how the importer reads part of its file), a forked reading of a file of
    READ_IN_PARTS_FROM bytes or more is shared by READERS children, chunk by chunk.
    """
    if fork is None:
        fork = input_bytes >= READ_IN_CHILD_FROM and can_fork()

    def read() -> Generator[Read, None, None]:
        return read_batches(parse, script.id, host_names)

    with import_mode(archive), collector_paused():
        if fork and split is not None and split.size >= READ_IN_PARTS_FROM:
            reads = read_in_parts(split, READERS, script.id, host_names, fork=True)
        else:
            reads = stream_from_child(read) if fork else read()
        # Closed on the way out, whatever happens: an error here stops the child at once,
        # even while the exception (holding this frame) is still being handled.
        with closing(reads):
            return _import(archive, script, reads, platform, progress)


def _import(archive: Archive, script: ChatScript, reads: Iterable[Read], platform: str,
            progress: Advance | None) -> ImportReport:
    report = ImportReport()
    # Message rows are held until their session is known (see held_rows), up to a bound.
    hold: list[tuple[Any, ...]] | None = []
    # The held rows' tags, parsed while the file is still being read: where the reading
    # runs in a child, this process would otherwise wait for it doing nothing.
    pretagged: PreTagged | None = PreTagged(script.model.tag_style, platform, {})
    end = None
    for part in reads:
        if progress is not None and part.progressed:
            progress(part.progressed)
        report.changed += store_batch(archive, part.batch, hold=hold)
        if hold is not None and len(hold) > HOLD_ROWS:
            # Too many to hold: written now, and the sessions update them later.
            pretagged = None  # their sessions read them back: the tags are parsed then
            report.changed += insert_rows(archive, hold)
            hold = None
        if pretagged is not None:
            _tag(pretagged, part.batch.rows)
        end = part.end
    assert end is not None, "the reading ends with its summary"  # noqa: S101 - read_batches
    report.read, report.messages, report.skipped = end.read, end.messages, end.skipped
    report.bad_lines = end.bad_lines
    edits = end.edits
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
    report.host_posts = len(end.host_posts)
    groups = _group(list(end.host_posts.values()))
    done = 0
    while done < len(groups):
        # One commit per BATCH rows written, not per session: each commit rewrites the
        # pages the sessions share (indexes, the full-text index's segments) in the log.
        with transaction(archive):
            rows = 0
            while done < len(groups) and rows < BATCH:
                session_id, written, touched = _session_for(archive, script, platform,
                                                            groups[done], held, pretagged)
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


def _tag(pretagged: PreTagged, rows: list[tuple[Any, ...]]) -> None:
    """Parse the tags of `Batch` rows (text at 7) as attribution will read them."""
    style, platform, by_id = pretagged.tag_style, pretagged.platform, pretagged.by_id
    for row in rows:
        text = row[7] or ""
        found = parse_tags(text, style)
        if found and row[0] == platform:
            by_id[row[1]] = (text, found)


def _session_for(archive: Archive, script: ChatScript, platform: str,
                 posts: list[Message], held: HeldRows | None,
                 pretagged: PreTagged | None = None) -> tuple[int, int, int]:
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
    attributions = attribute(placings, archive.items(session_id), tag_style=session.tag_style,
                             pretagged=pretagged)
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
