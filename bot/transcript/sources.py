"""The two sources a transcript reads its messages from: a list in memory, or the archive.

Both give the same `Bone`s in the same order: the public messages (not deleted, hidden,
a retweet or a scripted item post) in session time order (created, platform, id), each
with the position of the public message it replies to. `MemorySource` works them out in
Python from records (tests, the bot's small sessions); `ArchiveSource` has SQL do it and
reads full rows back by rowid in batches (a session of a million messages).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from bot.archive import Archive
from bot.archive.records import StoredMessage
from bot.archive.transcript_reads import (
    Bone,
    ids_by_rowid,
    item_posts,
    messages_by_rowid,
    repost_count,
    skeleton_rows,
    texts_by_rowid,
)

Reach = Mapping[tuple[str, str], tuple[int | None, int]]


class MemorySource:
    """A session's messages held in a list (what `build_transcript` is given)."""

    keeps = True

    def __init__(self, messages: Sequence[StoredMessage], post_keys: Collection[tuple[str, str]],
                 reach: Reach | None = None) -> None:
        unique: dict[tuple[str, str], StoredMessage] = {}
        self.removed: set[tuple[str, str]] = set()
        posted: dict[tuple[str, str], StoredMessage] = {}
        reposts: set[tuple[str, str]] = set()
        for m in messages:  # a later record of the same key wins, as the archive's upsert
            key = (m.platform, m.id)
            if m.deleted or m.hidden:  # not m.public
                self.removed.add(key)
                unique.pop(key, None)
                posted.pop(key, None)
            elif key in post_keys:
                posted[key] = m
            elif m.kind != "retweet":
                unique[key] = m
                self.removed.discard(key)
            else:
                reposts.add(key)
        self.public = sorted(unique.values(), key=lambda m: (m.created, m.platform, m.id))
        self._posts = sorted(posted.values(), key=lambda m: (m.created, m.platform, m.id))
        self._reposts = len(reposts - self.removed)
        self.post_keys = post_keys
        self.reach = reach or {}

    def bones(self) -> Iterator[Bone]:
        """The public messages as bones, in time order."""
        position = {(m.platform, m.id): i for i, m in enumerate(self.public)}
        reach = self.reach
        for i, m in enumerate(self.public):
            parent, removed = -1, False
            if m.reply_to is not None:
                parent_key = (m.platform, m.reply_to)
                parent = position.get(parent_key, -1)
                removed = parent < 0 and parent_key in self.removed
            followers, media = reach.get((m.platform, m.id), (None, 0))
            yield Bone(
                i, m.created, m.platform, m.author_id, m.author_name, m.author_handle,
                m.is_host, m.section, m.question, m.extra_questions, m.reactions,
                m.redacted_text is not None, m.public_text, parent, removed,
                m.reply_to is not None and (m.platform, m.reply_to) not in self.post_keys,
                followers, media,
            )

    def posts(self) -> list[StoredMessage]:
        """The public scripted item posts, in time order."""
        return self._posts

    def reposts(self) -> int:
        """Public retweets/reposts of the session."""
        return self._reposts

    def fetch(self, refs: Sequence[int]) -> list[StoredMessage]:
        """Each message, by its position."""
        return [self.public[r] for r in refs]

    def texts(self, refs: Sequence[int]) -> list[str]:
        """The public text of each message."""
        return [self.public[r].public_text for r in refs]

    def ids(self, refs: Sequence[int]) -> list[str]:
        """The platform id of each message."""
        return [self.public[r].id for r in refs]


class ArchiveSource:
    """A session read from the archive: bones in one pass, full rows in batches by rowid."""

    keeps = False

    def __init__(self, archive: Archive, session_id: int,
                 post_keys: Collection[tuple[str, str]]) -> None:
        self.archive = archive
        self.conn = archive.db.conn
        self.session_id = session_id
        self.post_keys = post_keys

    def release(self) -> bool:
        """Close the archive's connection before forking lanes; False if it must stay open.

        Once the transcript is built, walking it only reads messages by rowid: no lane needs
        this connection's temporary tables. A transaction still open (never the case after
        `assemble`, whose reads commit) would be lost by closing, an archive in memory
        could not be opened again, and another connection of this process to the same file
        would be inherited by every lane (`Archive.may_reopen`): then nothing forks.
        """
        if self.conn.in_transaction or not self.archive.may_reopen():
            return False
        self.archive.close()
        return True

    def reconnect(self) -> None:
        """Read through a connection of this process's own (in each lane, after the fork)."""
        self.archive.reconnect()
        self.conn = self.archive.db.conn

    def bones(self) -> Iterator[Bone]:
        """The public messages as bones, in time order, straight from SQL."""
        return skeleton_rows(self.conn, self.session_id, self.post_keys)

    def posts(self) -> list[StoredMessage]:
        """The public scripted item posts, in time order."""
        return item_posts(self.conn, self.session_id, self.post_keys)

    def reposts(self) -> int:
        """Public retweets/reposts of the session."""
        return repost_count(self.conn, self.session_id, self.post_keys)

    def fetch(self, refs: Sequence[int]) -> list[StoredMessage]:
        """The messages with these rowids, in order."""
        return messages_by_rowid(self.conn, refs)

    def texts(self, refs: Sequence[int]) -> list[str]:
        """The public texts of the messages with these rowids, in order."""
        return texts_by_rowid(self.conn, refs)

    def ids(self, refs: Sequence[int]) -> list[str]:
        """The platform ids of the messages with these rowids, in order."""
        return ids_by_rowid(self.conn, refs)
