"""An import's sessions, rebuilt from the host's posts once the whole file is read.

Each session takes three steps:

- prepare: create it, record the host's posts, and read back the archive's rows in its
  window (`claim_and_read`: the session's own rows and the chat's unassigned ones);
- attribute: the held rows in its window (bot/importers/held_rows.py) and the archive's,
  attributed together (CPU only, nothing written);
- write: the archive's rows that change (`attribute_into`) and the held rows, each once,
  with its session and attribution (`insert_rows`).

One session after another (in turn), or, for many held rows over several sessions, beside
a forked worker: sessions are prepared ahead in rounds (bounded by the archive rows they
read and by their number, `PREPARE_AHEAD_ROWS` and `PREPARE_AHEAD_SESSIONS`: memory, and
how long the prepare transaction keeps other writers waiting), the worker attributes a
round's sessions in order and sends each one's result as soon as it has it, and this
process writes each as it arrives. Attributing is about a third of this phase and writing
(SQLite, one writer) the rest.

Both give the same archive. Preparing a session before the one before it is written could
differ in two ways, each handled:

- the earlier session has not yet taken (given its session to) the unassigned rows it
  claimed, so an overlapping later window would read them again: prepared sessions leave
  out what an earlier one claimed (`Prepared.without`), as writing it first would have;
- two groups of host posts the schedule maps to one session: the later must read the
  earlier's rows once written. Then everything goes in turn (`_may_prepare_ahead`).

(A host post the archive already holds unassigned, imported before as chatter, is given
its session when that session is prepared; no other session claims it, in either way:
see `prepare`.)

Between the prepare transaction and a write, another process may write (a `forget`, the
live bot): the writes find rows by rowid and check the row is still that message and
still unassigned or the session's (`attribute_into`). A worker that fails (killed, out of
memory, or never forked) costs nothing but time: what was written stays, the rest goes in
turn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.archive import Archive
from bot.archive.bulk import (
    attribute_into,
    attributed_row,
    attribution_values,
    claim_and_read,
    held_placing,
    insert_rows,
    record_host_posts,
    transaction,
)
from bot.archive.records import ItemRow
from bot.archive.rows import Placing, placement
from bot.attribution import Attribution, PreTagged, attribute
from bot.forking import ChildFailed, can_fork, stream_from_child
from bot.importers.held_rows import HeldRows
from bot.importers.matching import match_items
from bot.importers.reading import BATCH
from bot.records import Message, PostRef
from bot.schedule import occurrences_between
from bot.script import ChatScript

log = logging.getLogger(__name__)

LEAD_IN_MINUTES = 15  # the session window, as publish.claim_window uses it
LATE_WINDOW_MINUTES = 120
SESSION_GAP = timedelta(hours=3)  # host posts further apart than this are separate sessions
# Held rows from which, over two sessions or more, a worker attributes while this process
# writes: below it, forking and sending the results back cost more than they save.
ATTRIBUTE_IN_CHILD_FROM = 20_000
# Archive rows the sessions prepared ahead may read, at most, in one round (about 1 KB each
# held here, and the prepare transaction's length: about 0.3 s at this size). A first import
# reads only the host's posts; a re-import over a large archive reads its sessions' rows.
PREPARE_AHEAD_ROWS = 20_000
# And sessions (about 3 ms each to prepare): the prepare transaction keeps other writers,
# the live bot's included, waiting, and the worker starts once its round is prepared.
PREPARE_AHEAD_SESSIONS = 50

Key = tuple[str, str]


@dataclass
class Rebuilt:
    """What rebuilding the sessions did: their ids, rows new to the archive."""

    sessions: list[int] = field(default_factory=list)
    changed: int = 0

    def write(self, archive: Archive, prep: Prepared, mine: Sequence[tuple[Any, ...]],
              result: SessionAttribution) -> int:
        """`write_session`, its session and new rows counted here; the rows it wrote."""
        written, touched = write_session(archive, prep, mine, result)
        self.sessions.append(prep.session_id)
        self.changed += written
        return touched


@dataclass(frozen=True)
class Plan:
    """Which host post is which scripted item, and when the session starts (no archive)."""

    posts: list[Message]
    matched: dict[str, Message]
    start: datetime
    # Every host post of the import, one set shared by all its plans: another group's is
    # never this session's to claim (see `prepare`).
    hosts: frozenset[Key] = frozenset()


@dataclass
class Prepared:
    """A session created, its host's posts recorded, the archive's rows in its window read."""

    session_id: int
    window: tuple[str, str]  # ISO texts, as the archive and the held rows compare them
    tag_style: str
    items: list[ItemRow]
    messages: list[Placing]  # the archive's rows (see claim_and_read)
    rowids: dict[Key, int]
    claimed: set[Key]

    def without(self, keys: set[Key]) -> None:
        """Leave out rows this session must not take.

        Those claimed by an earlier session of its round, or another session's host post
        (see the module's docstring and `prepare`).
        """
        gone = keys & self.rowids.keys()
        if gone:
            self.messages = [m for m in self.messages if m.key not in gone]
            self.rowids = {k: v for k, v in self.rowids.items() if k not in gone}
            self.claimed -= gone


# What attributing a session gives its writing: the archive's rows whose attribution
# changes, and the `attribution_values` of each held row taken, in the order taken.
SessionAttribution = tuple[dict[Key, Attribution], list[tuple[Any, ...]]]


def group_posts(posts: list[Message]) -> list[list[Message]]:
    """The host's posts in time order, split where they are SESSION_GAP or more apart."""
    groups: list[list[Message]] = []
    for msg in sorted(posts, key=lambda m: m.created):
        if groups and msg.created - groups[-1][-1].created <= SESSION_GAP:
            groups[-1].append(msg)
        else:
            groups.append([msg])
    return groups


def rebuild_sessions(archive: Archive, script: ChatScript, platform: str,
                     groups: list[list[Message]], held: HeldRows | None,
                     pretagged: PreTagged | None, *, fork: bool = True) -> Rebuilt:
    """Every group of host posts as a session, in time order (see the module's docstring).

    With `fork` false, or where `forking.can_fork()` is not, always in turn.
    """
    hosts = frozenset((m.platform, m.id) for posts in groups for m in posts)
    plans = [plan(script, posts, hosts) for posts in groups]
    out = Rebuilt()
    done = 0
    if (fork and held is not None and len(held) >= ATTRIBUTE_IN_CHILD_FROM
            and len(plans) > 1 and can_fork() and _may_prepare_ahead(plans)):
        done = _beside_a_worker(archive, script, platform, plans, held, pretagged, out)

    def in_turn() -> Iterator[int]:
        for each in plans[done:]:
            prep = prepare(archive, script, platform, each)
            mine = held.take([platform], *prep.window) if held is not None else []
            yield out.write(archive, prep, mine, attribute_session(prep, mine, pretagged))

    _commit_every(archive, in_turn())
    return out


def _may_prepare_ahead(plans: Sequence[Plan]) -> bool:
    """Whether preparing sessions ahead of writing them gives what in turn gives."""
    return len({p.start for p in plans}) == len(plans)  # else two groups, one session


def _beside_a_worker(archive: Archive, script: ChatScript, platform: str, plans: list[Plan],
                     held: HeldRows, pretagged: PreTagged | None, out: Rebuilt) -> int:
    """Rebuild sessions in rounds beside a worker; returns how many were written.

    Fewer than all only if a worker could not do its part: the caller does the rest in turn.
    """
    done = 0
    while done < len(plans):
        written, failure = _worker_round(archive, script, platform, plans[done:], held,
                                         pretagged, out)
        done += written
        if failure is not None:
            log.warning("the attribution worker stopped (%s: %s); the remaining %d sessions "
                        "are rebuilt in this process", type(failure).__name__, failure,
                        len(plans) - done)
            break
    return done


# How a worker fails without failing the import: killed (the OOM killer, a kill), out of
# memory where memory is capped (RLIMIT_AS: a MemoryError), or never forked (fork refused).
_WORKER_FAILURES = (ChildFailed, MemoryError, OSError)


def _worker_round(archive: Archive, script: ChatScript, platform: str, plans: list[Plan],
                  held: HeldRows, pretagged: PreTagged | None, out: Rebuilt
                  ) -> tuple[int, BaseException | None]:
    """Prepare one round, attribute it in a worker, write it: (sessions written, failure).

    The sessions written are committed even when the worker fails part way.
    """
    preps = _prepare_round(archive, script, platform, plans)

    def attribute_all() -> Iterator[SessionAttribution]:
        # In the worker, forked at the first result asked for: its copy of `held` has what
        # this process has taken so far and nothing more, as must be.
        for prep in preps:
            yield attribute_session(prep, held.take([platform], *prep.window), pretagged)

    results = stream_from_child(attribute_all)
    failed: list[BaseException] = []

    def write_all() -> Iterator[int]:
        for prep in preps:
            try:
                result = next(results)
            except _WORKER_FAILURES as exc:
                failed.append(exc)
                return
            yield out.write(archive, prep, held.take([platform], *prep.window), result)

    before = len(out.sessions)
    # Closed on the way out, whatever happens: an error here stops the worker at once.
    with closing(results):
        _commit_every(archive, write_all())
    return len(out.sessions) - before, failed[0] if failed else None


def _prepare_round(archive: Archive, script: ChatScript, platform: str, plans: list[Plan]
                   ) -> list[Prepared]:
    """Prepare sessions ahead in one transaction (see PREPARE_AHEAD_ROWS and _SESSIONS)."""
    preps: list[Prepared] = []
    earlier: set[Key] = set()
    read = 0
    with transaction(archive):
        for each in plans:
            if preps and (read >= PREPARE_AHEAD_ROWS or len(preps) >= PREPARE_AHEAD_SESSIONS):
                break
            prep = prepare(archive, script, platform, each)
            prep.without(earlier)
            earlier |= prep.claimed
            read += len(prep.messages)
            preps.append(prep)
    return preps


def _commit_every(archive: Archive, sessions: Iterator[int]) -> None:
    """Run `sessions` (each yields the rows it wrote), one commit per BATCH rows written.

    Not one per session: each commit rewrites the pages the sessions share (indexes, the
    full-text index's segments) in the log.
    """
    more = True
    while more:
        with transaction(archive):
            rows = 0
            while rows < BATCH:
                touched = next(sessions, None)
                if touched is None:
                    more = False
                    break
                rows += touched


def plan(script: ChatScript, posts: list[Message], hosts: frozenset[Key] = frozenset()
         ) -> Plan:
    """Match the host's posts to the script's items and find the session's start.

    `hosts` are the keys of all the import's host posts, this group's included.
    """
    matched = _match_items(script, posts)
    return Plan(posts, matched, _start_time(script, posts, matched), hosts)


def prepare(archive: Archive, script: ChatScript, platform: str, planned: Plan) -> Prepared:
    """Create one session from the host's posts and read the archive's rows in its window."""
    posts, matched, start = planned.posts, planned.matched, planned.start
    timeline = script.timeline()
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
    prep = Prepared(session_id, (window[0].isoformat(), window[1].isoformat()),
                    session.tag_style, archive.items(session_id), messages, rowids, claimed)
    # Another session's host post that the archive holds unassigned (imported before as
    # chatter, by a script that did not know the host) is that session's, whatever window
    # it lies in: claimed here, it would be filed as an answer in this session, and the
    # next import would then see a host post there and change it again.
    others = claimed & planned.hosts
    if others:  # rare: only an archive that had the host's posts as chatter
        prep.without(others - {(p.platform, p.id) for p in posts})
    return prep


def attribute_session(prep: Prepared, mine: Sequence[tuple[Any, ...]],
                      pretagged: PreTagged | None) -> SessionAttribution:
    """Attribute one prepared session's archive rows and held rows `mine` (CPU only)."""
    # Repeats of one message (overlapping searches) are one message to attribute.
    unique = {(row[0], row[1]): row for row in reversed(mine)}
    placings = prep.messages + [held_placing(row) for row in unique.values()]
    attributions = attribute(placings, prep.items, tag_style=prep.tag_style,
                             pretagged=pretagged)
    # Only rows that change are written: importing the same file again rewrites nothing.
    changed = {
        m.key: attributions[m.key] for m in prep.messages
        if m.key in prep.claimed or placement(m) != placement(attributions[m.key])
    }
    return changed, [attribution_values(attributions[(row[0], row[1])]) for row in mine]


def write_session(archive: Archive, prep: Prepared, mine: Sequence[tuple[Any, ...]],
                  result: SessionAttribution) -> tuple[int, int]:
    """Write one attributed session: (held rows new to the archive, all rows written)."""
    changed, values = result
    attribute_into(archive, prep.session_id, changed, prep.rowids)
    # Held rows are new: written once, with their session and attribution.
    written = insert_rows(archive, [attributed_row(row, prep.session_id, v)
                                    for row, v in zip(mine, values, strict=True)])
    return written, len(mine) + len(changed)


def _match_items(script: ChatScript, posts: list[Message]) -> dict[str, Message]:
    """Which host post is which scripted item (see bot.importers.matching)."""
    matched = match_items(script.timeline(), posts, script.model.tag_style)
    by_id = {p.id: p for p in posts}
    return {key: by_id[post.id] for key, post in matched.items()}


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
