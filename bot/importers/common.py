"""Turn a stream of past messages into archived sessions, exactly as if hosted live.

Messages become rows as they stream in, and their payloads are written in batches through
the archive's bulk path; only the host's posts are kept aside as messages. The message
rows themselves are held (bounded, see held_rows) until the host's posts are grouped into
sessions and matched to the script's items (Q tags): each is then written once, with its
session and attribution. Past the bound they are written as read and updated per session.
Everything is keyed on platform ids, so importing the same file twice changes nothing.

The reading (bot/importers/reading.py) may run in a forked child while this process
writes: see `import_stream`. The sessions are rebuilt in bot/importers/sessions.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.archive import Archive
from bot.archive.bulk import import_mode, insert_rows, split_stored, store_batch, transaction
from bot.archive.screened import SCREENED, record_screened
from bot.attribution import PreTagged, parse_tags
from bot.forking import can_fork, stream_from_child
from bot.gc_pause import collector_paused
from bot.hosts import host_names_for as host_names_for  # re-exported: importers' API
from bot.hosts import is_host as is_host
from bot.importers.held_rows import HOLD_ROWS, HeldRows
from bot.importers.parts import CHUNK_BYTES, Split, read_in_parts
from bot.importers.reading import Advance, Parsed, Read, read_batches
from bot.importers.sessions import group_posts, rebuild_sessions
from bot.records import Event
from bot.script import ChatScript

if TYPE_CHECKING:
    from bot.moderation.imported import ImportScreen
    from bot.moderation.policy import Policy

log = logging.getLogger(__name__)


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
    flagged: int = 0  # messages the moderation screening found something in


class WrongFile(ValueError):
    """Nothing in the file was of the importer's format: the wrong file, refused whole."""


def refuse_wrong_file(report: ImportReport, path: object, what: str) -> ImportReport:
    """`report`, unless every record of the file was bad: then WrongFile naming `what`.

    A file with a few bad lines among good ones is imported with them listed; a file
    none of whose records is of the format (another platform's export, binary bytes)
    was the wrong file, and saying "imported" would hide that.
    """
    if report.bad_lines and not report.messages and not report.skipped:
        lines = len(report.bad_lines)
        raise WrongFile(f"{path}: none of its {lines:,} record{'s' * (lines != 1)} is {what}; "
                        "check that this is the right file for this command")
    return report


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
    policy: Policy | None = None,
) -> ImportReport:
    """Archive what `parse(advance)` yields in batches, then group the host's posts into sessions.

    `parse` reports its progress through `advance(n)` (bytes or records, whatever
    `progress` counts). The reading (parsing, sorting out host posts and edits, turning
    messages into rows) runs in a forked child when `fork` is true (default: for an input
    of `input_bytes` >= READ_IN_CHILD_FROM where `forking.can_fork()`), while this process
    writes the batches the child sends; in this process otherwise. Both store the same.
    With `split` (how the importer reads part of its file), a forked reading of a file of
    READ_IN_PARTS_FROM bytes or more is shared by READERS children, chunk by chunk.
    The sessions may be attributed by a forked worker (bot/importers/sessions.py, its own
    rule), unless `fork` is False.

    Every participant's message is screened under `policy` (None: the built-in one) as
    its row is built, and written with its outcome (bot/moderation/imported.py); authors'
    names are screened as shown names (bot/moderation/shown_names.py).
    """
    from bot.moderation.imported import ImportScreen

    # Made before any reader forks: the children share the engine and its loaded lists.
    screen = ImportScreen(policy, protected=(script.model.host, *script.model.hosts))
    may_fork = fork is not False
    if fork is None:
        fork = input_bytes >= READ_IN_CHILD_FROM and can_fork()

    def read() -> Generator[Read, None, None]:
        return read_batches(parse, script.id, host_names, screen)

    in_parts = split if fork and split is not None and split.size >= READ_IN_PARTS_FROM else None
    with import_mode(archive), collector_paused():
        if in_parts is not None:
            reads = read_in_parts(in_parts, READERS, script.id, host_names, fork=True,
                                  screen=screen)
        else:
            reads = stream_from_child(read) if fork else read()
        # Closed on the way out, whatever happens: an error here stops the child at once,
        # even while the exception (holding this frame) is still being handled.
        with closing(reads):
            # With one reader this process has time to spare while it reads: it parses the
            # held rows' tags then. Two readers keep it busy writing: the tags are parsed
            # by the attribution, in the sessions' worker where there is one.
            return _import(archive, script, reads, platform, progress, pretag=in_parts is None,
                           fork=may_fork, screen=screen)


def _import(archive: Archive, script: ChatScript, reads: Iterable[Read], platform: str,
            progress: Advance | None, *, pretag: bool, fork: bool, screen: ImportScreen
            ) -> ImportReport:
    report = ImportReport()
    # Message rows are held until their session is known (see held_rows), up to a bound.
    hold: list[tuple[Any, ...]] | None = []
    # The held rows' tags, parsed while the file is still being read (see import_stream).
    pretagged = PreTagged(script.model.tag_style, platform, {}) if pretag else None
    end = None
    for part in reads:
        if progress is not None and part.progressed:
            progress(part.progressed)
        report.flagged += sum(row[SCREENED] is not None for row in part.batch.rows)
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
        changed, flagged = _record_edits(archive, edits, script.id, screen)
        report.changed += changed
        report.flagged += flagged
    report.host_posts = len(end.host_posts)
    rebuilt = rebuild_sessions(archive, script, platform,
                               group_posts(list(end.host_posts.values())), held, pretagged,
                               fork=fork)
    report.sessions = rebuilt.sessions
    report.changed += rebuilt.changed
    if held is not None:
        report.changed += insert_rows(archive, held.rest())  # outside every session
    return report


def _record_edits(archive: Archive, edits: list[Event], chat_id: str, screen: ImportScreen
                  ) -> tuple[int, int]:
    """Store edited messages (their newest text) and their screening in one transaction.

    Returns (rows changed, messages flagged).

    Few (X's edited tweets): screened here rather than in the readers. Each is judged on
    the text the archive then holds, which a later edit stored before may have changed.
    """
    shown = [replace(e, message=replace(e.message, author=replace(
        e.message.author, name=screen.name(e.message.author.name))))
             if e.message is not None and not e.message.author.is_bot else e for e in edits]
    at = datetime.now(UTC).isoformat()
    with transaction(archive):
        changed = archive.record_events(shown, chat_id=chat_id)
        judged = []
        for event in shown:
            msg = event.message
            stored = archive.message(event.platform, event.message_id)
            if msg is None or msg.author.is_bot or stored is None or stored.is_host:
                continue
            screened = screen.message(stored.text, stored.created)
            if screened is not None:
                judged.append((stored.platform, stored.id, stored.session_id, stored.text,
                               at, screened))
        record_screened(archive, judged)
    return changed, len(judged)


def _tag(pretagged: PreTagged, rows: list[tuple[Any, ...]]) -> None:
    """Parse the tags of `Batch` rows (text at 7) as attribution will read them."""
    style, platform, by_id = pretagged.tag_style, pretagged.platform, pretagged.by_id
    for row in rows:
        text = row[7] or ""
        found = parse_tags(text, style)
        if found and row[0] == platform:
            by_id[row[1]] = (text, found)
