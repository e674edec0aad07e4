"""The skeleton of a transcript: every public message as a few numbers in arrays.

A million-message session cannot be a million objects (each `StoredMessage` and its
`Entry` cost about 2.4 KB). The skeleton keeps what arranging and counting need, about
50 bytes a message in `array`s: where each message is shown (block, depth, the replies
shown below it), its engagement, its author's number, its kind. Entries are made from it
in batches only while a renderer walks them (`bot.transcript.model.Transcript`).

The threading rules are those of the transcript (docs/transcript-schema.md): a reply is
nested under its parent only when the parent is public and shown in the same block; below
MAX_DEPTH a chain is shown flat beside its parent, saying whom it answers; a reply to a
removed message is shown top-level, saying so. A parent must be older than its reply, so
bad data cannot make a cycle, and nothing here recurses.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from bot.archive.transcript_reads import Bone
from bot.transcript.model import MAX_DEPTH, MessageKind, Participant

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

KINDS: tuple[MessageKind, ...] = ("host", "other", "reply", "answer")
_HOST, _OTHER, _REPLY, _ANSWER = range(4)
# flags
PARENT_REMOVED = 1  # it replies to a message that was deleted or hidden
NAMES_PARENT = 2  # shown apart from its parent: says whom it answers
IS_HOST = 4  # written by the host (the record's is_host)
REDACTED = 8


def micros(when: datetime) -> int:
    """Microseconds since the epoch, exactly (float seconds would round)."""
    return (when - EPOCH) // _MICRO


def kind_code(bone: Bone) -> int:
    """What a message (not a scripted post) is: host, other, reply or answer."""
    if bone.is_host or bone.section == "host":
        return _HOST
    if bone.section != "question":
        return _OTHER
    # A reply to a question post answers it; a reply to anyone else is a reply.
    return _REPLY if bone.replies_to_person else _ANSWER


class Skeleton:
    """The arrays of a session's public messages, by position in session time order."""

    def __init__(self) -> None:
        self.ref = array("q")  # where the source reads the full message back
        self.created = array("q")  # microseconds since the epoch
        self.block = array("H")  # position of its block in Transcript.blocks
        self.author = array("i")  # participant number
        self.flags = array("B")
        self.kind = array("B")
        self.depth = array("B")  # as shown
        # 64-bit: counts come from platforms and files as they are (a hostile export's
        # like count of 2**31 must not stop the transcript); SQLite stores at most 2**63-1.
        self.reactions = array("q")
        self.media = array("q")
        self.parent = array("i")  # the public message it replies to (any age), -1 for none
        self.reply_count = array("i")  # public replies anywhere below it in the real tree
        # Positions whose message carries another author name than its author's first one
        # (a rename during the session): what a reply shown apart says it answers.
        self.renamed: dict[int, str] = {}
        # Replies shown directly below each message, as offsets into `shown` (CSR).
        self.shown_start = array("i")
        self.shown = array("i")
        # While messages are added: the message whose shown replies hold each one (-1 for
        # top-level), from which `finish` lays out `shown`.
        self._holder = array("i")

    def __len__(self) -> int:
        return len(self.ref)

    def add(self, bone: Bone, block: int, author: int, media: int, usual_name: str) -> int:
        """Append one message (in time order); returns its position.

        `usual_name` is the author's name as their participant shows it; a message under
        another name keeps its own in `renamed`.
        """
        i = len(self.ref)
        if bone.author_name != usual_name:
            self.renamed[i] = bone.author_name
        self.ref.append(bone.ref)
        self.created.append(micros(bone.created))
        self.block.append(block)
        self.author.append(author)
        self.flags.append((PARENT_REMOVED if bone.parent_removed else 0)
                          | (IS_HOST if bone.is_host else 0) | (REDACTED if bone.redacted else 0))
        self.kind.append(kind_code(bone))
        self.reactions.append(bone.reactions)
        self.media.append(media)
        self.parent.append(bone.parent)
        self.depth.append(self._place(i, bone.parent))
        return i

    def _place(self, i: int, p: int) -> int:
        """Where message i is shown below its parent p: returns its depth."""
        holder = self._holder
        if p < 0 or p >= i:  # no public, older parent: top-level
            holder.append(-1)
            return 0
        if self.block[p] != self.block[i]:  # shown under another block: top-level, named
            self.flags[i] |= NAMES_PARENT
            holder.append(-1)
            return 0
        depth = self.depth[p]
        if depth < MAX_DEPTH:
            holder.append(p)
            return depth + 1
        # Flatten: show it beside its parent, saying whom it answers.
        self.flags[i] |= NAMES_PARENT
        holder.append(holder[p])
        return depth

    def finish(self) -> None:
        """Count engagement and lay out the shown replies, once every message is in."""
        n = len(self.ref)
        parent, counts = self.parent, array("i", bytes(4 * n))
        # Newest first, so each reply's own count is complete before it is added to its
        # parent's; only older parents count (a newer "parent" is bad data, not a thread).
        for i in range(n - 1, -1, -1):
            p = parent[i]
            if 0 <= p < i:
                counts[p] += 1 + counts[i]
        self.reply_count = counts
        holder = self._holder
        start = array("i", bytes(4 * (n + 1)))
        for h in holder:
            if h >= 0:
                start[h + 1] += 1
        for i in range(n):
            start[i + 1] += start[i]
        fill = array("i", start[:n])
        shown = array("i", bytes(4 * start[n]))
        for i, h in enumerate(holder):  # time order: each list of replies in time order
            if h >= 0:
                shown[fill[h]] = i
                fill[h] += 1
        self.shown_start, self.shown = start, shown
        self._holder = array("i")  # only needed while messages are added

    def author_name(self, i: int, people: Sequence[Participant]) -> str:
        """The author name message i was posted under (what a reply to it says it answers)."""
        renamed = self.renamed.get(i)
        return people[self.author[i]].name if renamed is None else renamed

    def engagement(self, i: int) -> int:
        """Public replies anywhere below message i plus its reactions."""
        return self.reply_count[i] + self.reactions[i]

    def shown_replies(self, i: int) -> int:
        """How many replies are shown directly below message i."""
        return self.shown_start[i + 1] - self.shown_start[i]

    def walk(self, roots: Iterable[int]) -> Iterator[int]:
        """Each root, then the replies shown below it, depth first, without recursion."""
        start, shown = self.shown_start, self.shown
        for root in roots:
            stack = [root]
            pop, extend = stack.pop, stack.extend
            while stack:
                i = pop()
                yield i
                a, b = start[i], start[i + 1]
                if a != b:
                    extend(reversed(shown[a:b]))

    def top_level(self, blocks: int, engaged: Sequence[bool]) -> list[array[int]]:
        """Each block's top-level messages in display order (time, or most engaged first)."""
        out = [array("i") for _ in range(blocks)]
        depth, block = self.depth, self.block
        for i in range(len(self.ref)):
            if not depth[i]:
                out[block[i]].append(i)
        for b, by_engagement in enumerate(engaged):
            if by_engagement and len(out[b]) > 1:
                out[b] = array("i", sorted(out[b], key=lambda i: (-self.engagement(i), i)))
        return out

    def by_author(self, people: int) -> tuple[array[int], array[int]]:
        """(start offsets per participant, positions grouped by author in time order)."""
        n = len(self.ref)
        start = array("i", bytes(4 * (people + 1)))
        for a in self.author:
            start[a + 1] += 1
        for a in range(people):
            start[a + 1] += start[a]
        fill = array("i", start[:people])
        order = array("i", bytes(4 * n))
        for i, a in enumerate(self.author):
            order[fill[a]] = i
            fill[a] += 1
        return start, order
