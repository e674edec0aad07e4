"""Entries made from a transcript's skeleton in batches, only while a renderer walks them.

`SkeletonLayout` is the `Layout` behind every `Transcript`: the traversals a renderer may
use (a block's thread, every message in time order, one person's messages) walk positions
in the compact skeleton, and the messages behind a batch of positions are read from the
source (the archive by rowid, or a list in memory) as the walk reaches them, then dropped.
A source that already holds every message in memory (`keeps`) has its entries made once.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Protocol

from bot.archive.records import StoredMessage
from bot.archive.transcript_reads import Bone
from bot.transcript.model import Block, Entry, Participant
from bot.transcript.skeleton import KINDS, NAMES_PARENT, PARENT_REMOVED, Skeleton

BATCH = 1000  # messages read back from the source at a time


class Source(Protocol):
    """Where a transcript's messages are read from: the archive, or a list in memory."""

    keeps: bool  # every message is in memory already: entries may all be made at once

    def bones(self) -> Iterator[Bone]: ...  # noqa: D102 - public messages, time order
    def posts(self) -> list[StoredMessage]: ...  # noqa: D102 - the scripted item posts
    def reposts(self) -> int: ...  # noqa: D102

    def fetch(self, refs: Sequence[int]) -> list[StoredMessage]:
        """Each message of `refs`, in order."""
        ...

    def texts(self, refs: Sequence[int]) -> list[str]:
        """The public text of each message of `refs`, in order."""
        ...

    def ids(self, refs: Sequence[int]) -> list[str]:
        """The platform id of each message of `refs`, in order."""
        ...


class SkeletonLayout:
    """A session's public messages as a skeleton, made into entries batch by batch."""

    def __init__(self, skeleton: Skeleton, source: Source, blocks: Sequence[Block],
                 people: Sequence[Participant], tops: Sequence[array[int]],
                 to_local: Callable[[datetime], datetime], platforms: tuple[str, ...]) -> None:
        self.skeleton = skeleton
        self.source = source
        self.blocks = blocks
        self.people = people
        self.tops = tops  # each block's top-level positions, display order
        self.platforms = platforms
        self._to_local = to_local
        self._by_author: tuple[array[int], array[int]] | None = None
        self._kept: list[Entry] | None = None
        self._ahead: tuple[int, list[Entry]] | None = None  # (first, entries) read ahead
        self._ids: tuple[int, list[str]] | None = None  # (first, ids) read ahead
        if source.keeps:
            self._kept = self._make(range(len(skeleton)))

    def __len__(self) -> int:
        return len(self.skeleton)

    def entries(self, positions: Iterable[int]) -> Iterator[Entry]:
        """The entries at `positions`, in that order (read in batches)."""
        if self._kept is not None:
            return map(self._kept.__getitem__, positions)
        return self._batched(positions)

    def _batched(self, positions: Iterable[int]) -> Iterator[Entry]:
        it = iter(positions)
        while batch := list(islice(it, BATCH)):
            yield from self._make(batch)

    def _make(self, positions: Sequence[int]) -> list[Entry]:
        sk = self.skeleton
        ref, flags, depth, block, author = sk.ref, sk.flags, sk.depth, sk.block, sk.author
        kinds, counts, media, start = sk.kind, sk.reply_count, sk.media, sk.shown_start
        blocks, people, to_local = self.blocks, self.people, self._to_local
        parent, name_at = sk.parent, sk.author_name
        rows = self.source.fetch([ref[i] for i in positions])
        out = []
        for i, msg in zip(positions, rows, strict=True):
            f = flags[i]
            out.append(Entry(
                i, msg, msg.text if msg.redacted_text is None else msg.redacted_text,
                to_local(msg.created), blocks[block[i]], depth[i], start[i + 1] - start[i],
                counts[i], name_at(parent[i], people) if f & NAMES_PARENT else None,
                bool(f & PARENT_REMOVED), KINDS[kinds[i]], people[author[i]].role, media[i],
            ))
        return out

    def thread(self, block: Block) -> Iterator[Entry]:
        """The block's messages as shown, depth first (see `Transcript.thread`)."""
        return self.entries(self.skeleton.walk(self.tops[block.position]))

    def in_time_order(self) -> Iterator[Entry]:
        """Every public message shown, in session time order (scripted posts apart)."""
        return self.entries(range(len(self.skeleton)))

    def _authored(self, participant: Participant) -> tuple[array[int], int, int]:
        """Where one person's messages sit in the by-author order: (order, first, end)."""
        if self._by_author is None:
            self._by_author = self.skeleton.by_author(len(self.people))
        start, order = self._by_author
        n = participant.number
        return order, start[n], start[n + 1]

    def messages_of(self, participant: Participant) -> Iterator[Entry]:
        """One person's shown messages, in time order."""
        order, first, end = self._authored(participant)
        if self._kept is not None:
            return self.entries(order[first:end])
        return self._read_ahead(order, first, end)

    def message_ids_of(self, participant: Participant) -> Iterator[str]:
        """The platform ids of one person's shown messages, in time order."""
        order, first, end = self._authored(participant)
        if self._kept is not None:
            return (e.msg.id for e in self.entries(order[first:end]))
        return self._ids_ahead(order, first, end)

    def _ids_ahead(self, order: array[int], lo: int, hi: int) -> Iterator[str]:
        """order[lo:hi] as platform ids, read ten batches ahead (ids are small)."""
        at, ref = lo, self.skeleton.ref
        while at < hi:
            ahead = self._ids
            if ahead is None or not ahead[0] <= at < ahead[0] + len(ahead[1]):
                ahead = self._ids = (at, self.source.ids(
                    [ref[i] for i in order[at:at + 10 * BATCH]]))
            first, ids = ahead
            end = min(hi, first + len(ids))
            yield from ids[at - first:end - first]
            at = end

    def _read_ahead(self, order: array[int], lo: int, hi: int) -> Iterator[Entry]:
        """order[lo:hi] as entries, reading a batch ahead into the next people's messages.

        The participants lists walk everyone in turn: one read of BATCH messages serves
        many people with a few messages each, instead of one small read per person.
        """
        at = lo
        while at < hi:
            ahead = self._ahead
            if ahead is None or not ahead[0] <= at < ahead[0] + len(ahead[1]):
                ahead = self._ahead = (at, self._make(order[at:at + BATCH]))
            first, made = ahead
            end = min(hi, first + len(made))
            yield from made[at - first:end - first]
            at = end
