"""Building a transcript: `assemble` arranges a session's messages into the model.

It is a pure function of archive records. It drops what must never be published (deleted
and hidden messages, retweets), groups the rest by the section and question attribution
gave them, rebuilds reply trees from `reply_to` links (in a compact skeleton, see
bot/transcript/skeleton.py) and hands the result to the summary. `build_transcript` does
it for a list of records in memory; the publisher reads the archive (`ArchiveSource`).
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from bot.gc_pause import gc_paused
from bot.transcript.kinds import item_entries
from bot.transcript.layout import SkeletonLayout, Source
from bot.transcript.model import Block, Order, Participant, Transcript
from bot.transcript.script_time import script_clock, script_minutes
from bot.transcript.skeleton import Skeleton
from bot.transcript.sources import MemorySource
from bot.transcript.summary import Tally, summarise

if TYPE_CHECKING:
    from bot.transcript.read_ahead import ReadAhead

log = logging.getLogger(__name__)


def _zone(name: str, *, warn: bool = True) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if warn:
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


def local_clock(timezone_name: str) -> Callable[[datetime], datetime]:
    """UTC -> the chat's zone (quietly: `assemble` warns)."""
    return _LocalTime(_zone(timezone_name, warn=False))


def shown_clock(session: SessionRow, zone: ZoneInfo | None = None
                ) -> Callable[[datetime], datetime]:
    """UTC -> the time `assemble` shows: the chat's zone, in script time when paced."""
    local = _LocalTime(zone or _zone(session.timezone, warn=False))
    script = script_clock(session)
    if script is None:
        return local
    return lambda when: local(script(when))


def item_post_ids(items: Sequence[ItemRow]) -> set[tuple[str, str]]:
    """(platform, id) of every post of the scripted items: headings, not messages."""
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
    """Arrange a session's messages (a list in memory) into a transcript with its summary.

    `reach` is `Archive.reach`: (platform, message id) -> (author's followers, media).
    """
    source = MemorySource(messages, item_post_ids(items), reach)
    return assemble(session, items, source, previous_participants=previous_participants,
                    order=order, moderation_counts=moderation_counts, roles=roles)


@gc_paused
def assemble(
    session: SessionRow,
    items: Sequence[ItemRow],
    source: Source,
    *,
    previous_participants: Collection[tuple[str, str]] = (),
    order: Order = "time",
    moderation_counts: Mapping[str, int] | None = None,
    roles: Mapping[tuple[str, str], str] | None = None,
    ahead: Callable[[], ReadAhead] | None = None,
) -> Transcript:
    """Arrange the public messages `source` gives into a transcript and its summary.

    One pass over the source's compact rows builds the skeleton and the summary's counts;
    entries are made only while something walks them (`SkeletonLayout`). `ahead` gives
    what was read from the public texts beforehand, when it was (publishing does).
    """
    roles = roles or {}
    zone = _zone(session.timezone)
    prefix = session.tag_style
    close = next((i for i in items if i.key == "close"), None)
    welcome_item = next((i for i in items if i.key == "welcome"), None)
    welcome = Block("welcome", "welcome", "Welcome", item=welcome_item)
    wrapup = Block("wrapup", "wrapup", "Wrap-up", item=close)
    unplaced = Block("unplaced", "unplaced", "Unplaced")
    by_number = _question_blocks(items, prefix)
    questions = list(by_number.values())
    blocks = [welcome, *questions, wrapup, unplaced]
    for n, b in enumerate(blocks):
        b.position = n
    to_local = shown_clock(session, zone)
    posts = item_entries(items, {m.key: m for m in source.posts()},
                         [welcome, *questions, wrapup], to_local)

    previous = set(previous_participants)
    skeleton = Skeleton()
    tally = Tally(session.hashtag, len(blocks),
                  None if ahead is None else lambda: ahead().spelled)
    people: dict[tuple[str, str], Participant] = {}
    listed: list[Participant] = []
    answered: list[set[int]] = []
    also: dict[int, array[int]] = {}
    platforms: dict[str, None] = {}
    for bone in source.bones():
        section = bone.section
        if section == "question" and bone.question in by_number:
            block = by_number[bone.question]  # type: ignore[index]
        elif section == "welcome":
            block = welcome
        elif section == "wrapup":
            block = wrapup
        elif section == "host" or (bone.is_host and section == "unplaced"):
            block = _host_block(bone.created, questions, close, welcome, wrapup)
        else:
            block = unplaced
        key = (bone.platform, bone.author_id)
        p = people.get(key)
        if p is None:
            p = people[key] = Participant(
                bone.platform, bone.author_id, bone.author_name, bone.author_handle,
                bone.is_host, key in previous, role=roles.get(key, ""), number=len(listed),
                first=len(skeleton))
            listed.append(p)
            answered.append(set())
        elif bone.is_host:
            p.is_host = True
        if bone.followers is not None:  # the largest count reported during the session
            p.followers = max(p.followers or 0, bone.followers)
        i = skeleton.add(bone, block.position, p.number, bone.media, p.name)
        p.message_count += 1
        p.reactions += bone.reactions
        block.message_count += 1
        platforms.setdefault(bone.platform)
        home = block.position if block.kind == "question" else -1
        if home >= 0:
            answered[p.number].add(home)
        others = []
        for n in bone.extra_questions:
            other = by_number.get(n)
            if other is not None and other is not block:
                also.setdefault(other.position, array("i")).append(i)
                others.append(other.position)
        tally.add(i, bone, skeleton.depth[i], home, others)
    skeleton.finish()
    for p, seen in zip(listed, answered, strict=True):
        p.question_labels = [blocks[n].label for n in sorted(seen)]
    tops = skeleton.top_level(len(blocks), [order == "engaged" and b.kind == "question"
                                            for b in blocks])
    for b in blocks:
        b.answer_count = len(tops[b.position])
    layout = SkeletonLayout(skeleton, source, blocks, listed, tops, to_local,
                            tuple(platforms))
    for n, positions in also.items():
        blocks[n].also = list(layout.entries(positions))

    start, end = session.started_at, session.ended_at
    length = (
        script_minutes(session, (end - start).total_seconds() / 60)
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
        multi_platform=len(set(session.platforms) | set(platforms)) > 1,
        welcome=welcome,
        questions=questions,
        wrapup=wrapup,
        unplaced=unplaced,
        layout=layout,
        posts=posts,
        participants=listed,
        moderation_counts=dict(moderation_counts or {}),
        reposts=source.reposts(),
        roles=dict(roles),
    )
    t.summary = summarise(t, tally, layout)
    if ahead is not None:
        t.shown = ahead().shown
        t.csv_cells = ahead().csv
    return t
