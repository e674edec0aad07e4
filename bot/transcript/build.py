"""Building a transcript: `build_transcript` arranges archive records into the model.

It is a pure function of archive records. It drops what must never be published (deleted
and hidden messages, retweets), groups the rest by the section and question attribution
gave them, rebuilds reply trees from `reply_to` links and hands the result to the summary.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from bot.gc_pause import gc_paused
from bot.transcript.kinds import item_entries, kind_of
from bot.transcript.model import (
    MAX_DEPTH,
    Block,
    Entry,
    Order,
    Participant,
    Transcript,
)
from bot.transcript.summary import summarise

log = logging.getLogger(__name__)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r for a transcript; showing times in UTC", name)
        return ZoneInfo("UTC")


class _LocalTime:
    """UTC -> the chat's zone, fast: one zone lookup per UTC hour, then a fixed offset.

    Zone offsets change on whole UTC minutes, so the offset at both ends of an hour being
    equal means it holds for the whole hour; otherwise fall back to the zone itself.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._hours: dict[datetime, tzinfo | None] = {}
        self._last: tuple[datetime, datetime, tzinfo] | None = None  # [start, end), offset

    def __call__(self, when: datetime) -> datetime:
        # Messages come in time order: most fall in the same hour as the previous one.
        last = self._last
        if last is not None and when.tzinfo is last[0].tzinfo and last[0] <= when < last[1]:
            return when.astimezone(last[2])
        hour = when.replace(minute=0, second=0, microsecond=0)
        try:
            fixed = self._hours[hour]
        except KeyError:
            a, b = hour.astimezone(self.zone), (hour + timedelta(minutes=59)).astimezone(self.zone)
            offset, name = a.utcoffset(), a.tzname()
            fixed = None
            if offset is not None and name and offset == b.utcoffset() and name == b.tzname():
                fixed = timezone(offset, name)
            self._hours[hour] = fixed
        if fixed is not None and hour.utcoffset() == timedelta(0):
            self._last = (hour, hour + timedelta(hours=1), fixed)
        return when.astimezone(fixed if fixed is not None else self.zone)


def _item_post_ids(items: Sequence[ItemRow]) -> set[tuple[str, str]]:
    return {(platform, pid) for item in items for platform, pid in item.refs.items()}


def _question_blocks(items: Sequence[ItemRow], prefix: str) -> dict[int, Block]:
    blocks: dict[int, Block] = {}
    for item in sorted((i for i in items if i.number is not None), key=lambda i: i.number or 0):
        assert item.number is not None
        blocks[item.number] = Block(
            "question", f"q{item.number}", f"{prefix}{item.number}", item.number, item
        )
    return blocks


def _host_block(
    created: datetime, questions: list[Block], close: ItemRow | None, welcome: Block, wrapup: Block
) -> Block:
    """Where a host's own running commentary belongs: the question live at that moment."""
    if close is not None and close.posted_at is not None and created >= close.posted_at:
        return wrapup
    current = welcome
    for b in questions:
        if b.posted_at is not None and b.posted_at <= created:
            current = b
    return current


@gc_paused
def build_transcript(
    session: SessionRow,
    items: Sequence[ItemRow],
    messages: Sequence[StoredMessage],
    *,
    previous_participants: Collection[tuple[str, str]] = (),
    order: Order = "time",
    moderation_counts: Mapping[str, int] | None = None,
    roles: Mapping[tuple[str, str], str] | None = None,
    reach: Mapping[tuple[str, str], tuple[int | None, int]] | None = None,
) -> Transcript:
    """Arrange a session's messages into a transcript and compute its summary.

    `reach` is `Archive.reach`: (platform, message id) -> (author's followers, media).
    """
    reach = reach or {}
    zone = _zone(session.timezone)
    prefix = session.tag_style
    item_posts = _item_post_ids(items)
    close = next((i for i in items if i.key == "close"), None)
    welcome_item = next((i for i in items if i.key == "welcome"), None)
    welcome = Block("welcome", "welcome", "Welcome", item=welcome_item)
    wrapup = Block("wrapup", "wrapup", "Wrap-up", item=close)
    unplaced = Block("unplaced", "unplaced", "Unplaced")
    by_number = _question_blocks(items, prefix)
    questions = list(by_number.values())

    # Everything published, in session time order; the scripted posts themselves are the
    # headings, kept apart as `posts` (the CSV and JSON list them with the messages).
    unique: dict[tuple[str, str], StoredMessage] = {}
    removed: set[tuple[str, str]] = set()
    posted: dict[tuple[str, str], StoredMessage] = {}
    reposts: set[tuple[str, str]] = set()
    for m in messages:
        key = (m.platform, m.id)
        if m.deleted or m.hidden:  # not m.public
            removed.add(key)
            unique.pop(key, None)
            posted.pop(key, None)
        elif key in item_posts:
            posted[key] = m
        elif m.kind != "retweet":
            unique[key] = m
            removed.discard(key)
        else:
            reposts.add(key)
    public = sorted(unique.values(), key=lambda m: (m.created, m.platform, m.id))

    entries: list[Entry] = []
    by_key: dict[tuple[str, str], Entry] = {}
    to_local = _LocalTime(zone)
    for i, m in enumerate(public):
        section = m.section
        if section == "question" and m.question in by_number:
            block = by_number[m.question]  # type: ignore[index]
        elif section == "welcome":
            block = welcome
        elif section == "wrapup":
            block = wrapup
        elif section == "host" or (m.is_host and section == "unplaced"):
            block = _host_block(m.created, questions, close, welcome, wrapup)
        else:
            block = unplaced
        text = m.text if m.redacted_text is None else m.redacted_text
        e = Entry(i, m, text, to_local(m.created), block)
        entries.append(e)
        by_key[(m.platform, m.id)] = e

    _link_replies(entries, by_key, removed)
    posts = item_entries(items, posted, [welcome, *questions, wrapup], to_local)
    for e in entries:
        e.kind = kind_of(e, item_posts)

    for e in entries:
        home = e.block
        assert home is not None
        home.messages.append(e)
        if not e.depth:
            home.answers.append(e)
        if e.msg.extra_questions:
            for n in e.msg.extra_questions:
                other = by_number.get(n)
                if other is not None and other is not home:
                    other.also.append(e)
    if order == "engaged":
        for b in questions:
            b.answers.sort(key=lambda e: (-e.engagement, e.index))

    previous = set(previous_participants)
    people: dict[tuple[str, str], Participant] = {}
    for e in entries:
        m = e.msg
        key = (m.platform, m.author_id)
        p = people.get(key)
        if p is None:
            p = people[key] = Participant(
                m.platform,
                m.author_id,
                m.author_name,
                m.author_handle,
                m.is_host,
                key in previous,
                role=(roles or {}).get(key, ""),
            )
        elif m.is_host:
            p.is_host = True
        followers = reach.get(m.key, (None, 0))[0]
        if followers is not None:  # the largest count reported during the session
            p.followers = max(p.followers or 0, followers)
        p.entries.append(e)
        e.role = p.role

    start, end = session.started_at, session.ended_at
    length = (
        max(0, round((end - start).total_seconds() / 60))
        if start is not None and end is not None
        else session.duration_minutes
    )
    t = Transcript(
        session=session,
        items=tuple(items),
        zone=zone,
        local_start=session.scheduled_start.astimezone(zone),
        length_minutes=length,
        order=order,
        multi_platform=len(set(session.platforms) | {e.msg.platform for e in entries}) > 1,
        welcome=welcome,
        questions=questions,
        wrapup=wrapup,
        unplaced=unplaced,
        entries=entries,
        posts=posts,
        participants=list(people.values()),
        moderation_counts=dict(moderation_counts or {}),
        reposts=len(reposts - removed),
        roles=dict(roles or {}),
        media={e.msg.key: n for e in entries if (n := reach.get(e.msg.key, (None, 0))[1])},
    )
    t.summary = summarise(t)
    return t


def _link_replies(
    entries: list[Entry], by_key: dict[tuple[str, str], Entry], removed: set[tuple[str, str]]
) -> None:
    """Attach each reply under its parent; replies to removed messages stay top-level.

    A reply is nested only when its parent is public and in the same block: a reply that
    attribution moved to another question is shown there, saying whom it answers. Works in
    time order without recursion, so a 5,000-long chain cannot blow the stack, and a parent
    must be older than its reply, so bad data cannot make a cycle.
    """
    parent_of: dict[int, Entry] = {}
    holder: dict[int, Entry] = {}  # entry index -> the entry whose `replies` list holds it
    for e in entries:  # time order: a parent is always handled before its replies
        m = e.msg
        if m.reply_to is None:
            continue
        parent_key = (m.platform, m.reply_to)
        parent = by_key.get(parent_key)
        if parent is None or parent.index >= e.index:
            e.parent_removed = parent_key in removed
            continue
        parent_of[e.index] = parent
        if parent.block is not e.block:
            e.reply_to_name = parent.msg.author_name
        elif parent.depth < MAX_DEPTH:
            e.depth = parent.depth + 1
            parent.replies.append(e)
            holder[e.index] = parent
        else:
            # Flatten: show it beside its parent, saying whom it answers.
            anchor = holder[parent.index]
            e.depth = parent.depth
            e.reply_to_name = parent.msg.author_name
            anchor.replies.append(e)
            holder[e.index] = anchor
    # Engagement counts every public reply below a message in the real tree; newest first
    # so each reply's own count is complete before it is added to its parent's.
    for e in reversed(entries):
        parent = parent_of.get(e.index)
        if parent is not None:
            parent.reply_count += 1 + e.reply_count
