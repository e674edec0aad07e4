"""The transcript model: a session's public messages arranged for reading, and its summary.

These are the types only; `bot.transcript.build` fills them from archive records (the
messages themselves stay in a `Layout`, made into entries only while walked) and
`bot.transcript.summary` computes the `Summary`. Every renderer (HTML, Markdown, JSON, CSV)
reads only this model, so they cannot disagree about what is public.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from bot.transcript.script_time import script_clock

Order = Literal["time", "engaged"]
BlockKind = Literal["welcome", "question", "wrapup", "unplaced"]
# What each message is in the transcript (kinds.py decides; defined here, beside Entry,
# so the model imports nothing from the code that classifies it).
MessageKind = Literal["welcome", "question", "answer", "reply", "close", "host", "other"]

# Reply chains deeper than this are shown flat under the deepest shown reply (each one
# saying whom it answers). Keeps pages readable on a phone and keeps every renderer and
# orjson (which refuses nesting beyond 255) far away from recursion limits.
MAX_DEPTH = 6


# The model is a graph (entries point at their block, blocks at their entries): the
# generated reprs would walk all of it, which for a big session takes minutes and gigabytes
# (a failing test's report, a debugger). Each says who it is instead.
@dataclass(slots=True, eq=False, repr=False)
class Entry:
    """One public message as the transcript shows it."""

    index: int  # position in session time order; HTML anchors are "m{index}"
    msg: StoredMessage
    text: str  # what may be published: the redacted text when a moderator redacted it
    local: datetime  # `msg.created` in the chat's time zone
    block: Block | None = None
    depth: int = 0  # nesting level as shown (0 = an answer / top-level message)
    shown_replies: int = 0  # replies shown directly below it (a renderer opens a nested list)
    reply_count: int = 0  # public replies anywhere below this message in the real tree
    # Name of the message this one replies to, when the transcript cannot show it nested
    # (flattened deep chain, or the parent sits under another question).
    reply_to_name: str | None = None
    parent_removed: bool = False  # it answered a message that was deleted or hidden
    kind: MessageKind = "other"
    role: str = ""  # the role its author declared in the chat, if any
    media: int = 0  # images, videos and files attached (links apart)

    def __repr__(self) -> str:
        return f"<Entry {self.index} {self.msg.platform}:{self.msg.id} depth {self.depth}>"

    @property
    def engagement(self) -> int:
        """Public replies anywhere below this message plus its reactions."""
        return self.reply_count + self.msg.reactions

    @property
    def redacted(self) -> bool:
        """Whether a moderator redacted this message."""
        return self.msg.redacted_text is not None

    @property
    def author_key(self) -> tuple[str, str]:
        """(platform, author id): who wrote it."""
        return (self.msg.platform, self.msg.author_id)

    @property
    def label(self) -> str:
        """The label of the block it is shown in ("Q1", "Welcome", ...)."""
        return self.block.label if self.block is not None else ""



@dataclass(slots=True, eq=False, repr=False)
class Block:
    """A section of the transcript: the welcome, one question, the wrap-up, or unplaced."""

    kind: BlockKind
    anchor: str  # HTML id: "welcome", "q1", "wrapup", "unplaced"
    label: str  # "Welcome", "Q1", "Wrap-up", "Unplaced"
    number: int | None = None
    item: ItemRow | None = None
    also: list[Entry] = field(default_factory=list)  # placed elsewhere, also answering this one
    post: Entry | None = None  # the host's post of this item, as the archive recorded it
    message_count: int = 0  # public messages shown in the block, replies included
    answer_count: int = 0  # its top-level messages (answers, not their replies)
    position: int = 0  # where it stands in Transcript.blocks

    def __repr__(self) -> str:
        return f"<Block {self.label}: {self.message_count} messages>"

    @property
    def posted(self) -> bool:
        """Whether the item really went out (a scripted item never posted is not shown)."""
        return self.post is not None or (self.item is not None and self.item.status == "sent")

    @property
    def prompt(self) -> str:
        """What was posted: the archived post's text, else the script's."""
        if self.post is not None:
            return self.post.text
        return self.item.text if self.item is not None else ""

    @property
    def poster(self) -> str:
        """Who posted the item: the archived post's author, else "" (the session's host)."""
        return self.post.msg.author_name if self.post is not None else ""

    @property
    def heading(self) -> str:
        """The prompt without the "Q1" it usually starts with (the label shows that)."""
        text = self.prompt.strip()
        if self.number is not None:
            # As hosts write it: "Q1", "**Q1**", "Question 1:", "Q1/6", "T1"...
            m = re.match(rf"[*_]*(?:question|topic|q|t)\s*\.?\s*{self.number}(?:/\d+)?\b[*_]*"
                         r"[\s:.)\-–—]*", text, re.IGNORECASE)
            if m and m.end() < len(text):
                text = text[m.end() :]
        return text

    @property
    def posted_at(self) -> datetime | None:
        """When the block's scripted post went out, if it did."""
        if self.item is not None and self.item.posted_at is not None:
            return self.item.posted_at
        return self.post.msg.created if self.post is not None else None

    @property
    def skipped(self) -> bool:
        """Whether the host skipped this block's scripted post."""
        return self.item is not None and self.item.status == "skipped"


@dataclass(slots=True, eq=False)
class Participant:
    """Someone who posted in the session, with their public messages."""

    platform: str
    author_id: str
    name: str
    handle: str | None
    is_host: bool
    returning: bool
    role: str = ""  # the role they declared in the chat (patient, nurse, ...), if any
    followers: int | None = None  # as the platform reported with their messages; None: never
    number: int = 0  # their place in Transcript.participants (first message first)
    first: int = 0  # position of their first message in session time order
    message_count: int = 0  # their public messages in the session
    reactions: int = 0  # reactions on all of their shown messages
    question_labels: list[str] = field(default_factory=list)  # questions answered, in order

    @property
    def key(self) -> tuple[str, str]:
        """(platform, author id): who this is."""
        return (self.platform, self.author_id)



@dataclass(slots=True)
class QuestionStats:
    """The summary of one question: answers, people, timing, picks and key terms."""

    number: int
    label: str
    answers: int
    participants: int
    median_first_answer: float | None  # seconds
    most_engaged: list[Entry]
    representative: list[Entry]
    key_terms: list[str]
    # whose voices: (role, people who answered) most first, "" for those who gave none
    roles: list[tuple[str, int]] = field(default_factory=list)


@dataclass(slots=True)
class Activity:
    """Public messages per minute of the session."""

    origin: datetime  # UTC minute of bucket 0
    counts: list[int]

    @property
    def peak(self) -> int:
        """The most messages in any one minute."""
        return max(self.counts, default=0)

    def busiest(self) -> tuple[int, int] | None:
        """(minute offset, count) of the busiest minute, first one on a tie."""
        if not self.counts or self.peak == 0:
            return None
        i = self.counts.index(self.peak)
        return i, self.peak


@dataclass(slots=True)
class Summary:
    """The summary of a session (definitions in docs/transcript-schema.md)."""

    messages: int
    participants: int
    new_participants: int
    returning_participants: int
    host_messages: int
    questions: list[QuestionStats]
    links: list[tuple[str, int]]  # deduplicated, most shared first
    top_contributors: list[tuple[Participant, int]]
    activity: Activity
    moderation: list[tuple[str, int]]
    messages_per_participant: float = 0.0
    top_replied: list[tuple[Participant, int]] = field(default_factory=list)  # replies received
    reposts: int = 0  # retweets/reposts of the chat's messages, never shown in the thread
    # Impressions: the sum of the followers of the participants whose platform reported a
    # count, a theoretical maximum reach, not views; None when no platform gave one.
    impressions: int | None = None
    impressions_people: int = 0  # participants whose follower count is known
    media: int = 0  # images, videos and files attached to public messages (links apart)
    script_time: bool = False  # a paced rehearsal: delays and minutes are script time
    by_number: dict[int, QuestionStats] = field(default_factory=dict)


class Layout(Protocol):
    """Where a transcript's messages come from, and the order they are walked in."""

    platforms: tuple[str, ...]  # the platforms of the shown messages, first seen first

    def __len__(self) -> int: ...  # noqa: D105 - the public messages shown

    def thread(self, block: Block) -> Iterator[Entry]: ...  # noqa: D102 - as Transcript's
    def in_time_order(self) -> Iterator[Entry]: ...  # noqa: D102 - the scripted posts apart
    def messages_of(self, participant: Participant) -> Iterator[Entry]: ...  # noqa: D102
    def message_ids_of(self, participant: Participant) -> Iterator[str]: ...  # noqa: D102


@dataclass(slots=True, eq=False, repr=False)
class Transcript:
    """A session's public messages arranged for reading, with its summary."""

    session: SessionRow
    items: tuple[ItemRow, ...]
    zone: ZoneInfo
    local_start: datetime
    length_minutes: int
    order: Order
    multi_platform: bool
    welcome: Block
    questions: list[Block]
    wrapup: Block
    unplaced: Block
    layout: Layout  # every public message shown, and how: walked through the traversals
    posts: list[Entry]  # the host's posts of scripted items (shown as headings), time order
    participants: list[Participant]  # everyone who posted, host included, by first message
    moderation_counts: dict[str, int]
    reposts: int = 0  # public retweets/reposts in the session (left out of the thread)
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (platform, author) -> role
    # Format -> each layout message's text as that format writes it, by position (None: the
    # text itself), when it was made ahead (bot.transcript.read_ahead); else renderers make it.
    shown: dict[str, list[str | None]] = field(default_factory=dict)
    # Each layout message's CSV cells that attribution does not decide, by position, when
    # made ahead (bot.transcript.render_csv.FixedCells); else the CSV makes them.
    csv_cells: list[tuple[str, str, str | None, str | None, str | None]] = field(
        default_factory=list)
    summary: Summary = field(init=False)

    def __repr__(self) -> str:
        return f"<Transcript of session {self.session.id}: {len(self.layout)} messages>"

    @property
    def reads_archive(self) -> bool:
        """Whether walking it reads the archive (a session too big to hold in memory)."""
        source = getattr(self.layout, "source", None)
        return source is not None and not source.keeps

    @property
    def blocks(self) -> list[Block]:
        """Every block in reading order: welcome, questions, wrap-up, unplaced."""
        return [self.welcome, *self.questions, self.wrapup, self.unplaced]

    def every_message(self) -> Iterator[Entry]:
        """Every public message, the host's scripted posts included, in time order."""
        return self.in_time_order()

    # The traversals below are all a renderer may walk: entries are made from the layout's
    # compact skeleton in batches while they are walked (bot/transcript/layout.py).
    def thread(self, block: Block) -> Iterator[Entry]:
        """The block's messages as shown, depth first: each top-level one, then its replies.

        Top-level messages come in display order (time, or most engaged first); `depth`
        says how deep each is shown and `shown_replies` how many sit directly below it.
        """
        return self.layout.thread(block)

    def in_time_order(self) -> Iterator[Entry]:
        """Every public message, the host's scripted posts included, in time order."""
        entries = self.layout.in_time_order()
        return _merged(self.posts, entries) if self.posts else entries

    def messages_of(self, participant: Participant) -> Iterator[Entry]:
        """One person's shown messages, in time order."""
        return self.layout.messages_of(participant)

    def message_ids_of(self, participant: Participant) -> Iterator[str]:
        """The platform ids of one person's shown messages, in time order (no entries made)."""
        return self.layout.message_ids_of(participant)

    @property
    def platforms(self) -> tuple[str, ...]:
        """The session's platforms, then any other a shown message came from."""
        seen = dict.fromkeys(self.session.platforms)
        seen.update(dict.fromkeys(self.layout.platforms))
        return tuple(seen)

    def local(self, when: datetime) -> datetime:
        """A time in the chat's time zone."""
        return when.astimezone(self.zone)

    def shown_at(self, when: datetime) -> datetime:
        """A recorded instant as the transcript shows it: local, in script time when paced."""
        script = script_clock(self.session)
        return self.local(when if script is None else script(when))

    @property
    def hint_number(self) -> int:
        """The question number used in the "how to tag next time" line."""
        numbers = [b.number for b in self.questions if b.number is not None]
        if not numbers:
            return 1
        return 3 if 3 in numbers else numbers[-1]


def _time_key(e: Entry) -> tuple[datetime, str, str]:
    return (e.msg.created, e.msg.platform, e.msg.id)


def _merged(posts: list[Entry], entries: Iterator[Entry]) -> Iterator[Entry]:
    """The few scripted posts merged into the entries, as `heapq.merge` (posts first on a tie).

    Written out because heapq.merge builds a key for every entry: here an entry costs one
    time comparison with the next post, and a key only when their times are equal.
    """
    pending = iter(posts)
    post = next(pending, None)
    for e in entries:
        while post is not None:
            at, created = post.msg.created, e.msg.created
            if at < created or (at == created and _time_key(post) <= _time_key(e)):
                yield post
                post = next(pending, None)
            else:
                break
        yield e
    if post is not None:
        yield post
        yield from pending
