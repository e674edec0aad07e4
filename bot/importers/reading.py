"""An import's reading: parsed messages sorted out and turned into rows, batch by batch.

What it yields (`Read`) is all the writer needs: a batch of rows to store, the progress
made, and at the end what was read (counts, bad lines, the host's posts, edits). It
touches no archive, so it can run in a forked child while the parent writes
(`bot.forking.stream_from_child`); everything it yields is picklable for that.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orjson import JSONEncodeError, dumps

from bot.archive.bulk import Batch
from bot.hosts import is_host
from bot.records import Event, Message

if TYPE_CHECKING:
    from bot.moderation.imported import ImportScreen

BATCH = 5000
Advance = Callable[[int], None]  # a parser's progress: n more bytes or records read
PROGRESS_EVERY = 1000  # records: a Read with no rows passes progress on at least this often


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
    # A record the parser keeps until the end of the file (a version of an edited tweet):
    # its line counts as read here, and the message comes later, as an edit.
    later: bool = False

    def __init__(self, line: int, message: Message | None = None, error: str = "",
                 skipped: bool = False, edit: bool = False, later: bool = False) -> None:
        """Set every field at once: one per message of an import (see bot.records.Author)."""
        self.__dict__.update(line=line, message=message, error=error, skipped=skipped,
                             edit=edit, later=later)


@dataclass
class ReadEnd:
    """What the whole reading found, besides the rows: sent once, with the last batch."""

    read: int = 0  # lines (or records) read
    messages: int = 0
    skipped: int = 0
    bad_lines: list[int] = field(default_factory=list)  # each bad line once, in file order
    host_posts: dict[str, Message] = field(default_factory=dict)  # by id, first copy kept
    edits: list[Event] = field(default_factory=list)
    # Of one chunk read by one of several readers (bot/importers/parts): what the parser
    # kept to the end of the file while reading it, and the line of its last record.
    set_aside: list[Parsed] = field(default_factory=list)
    last_line: int | None = None


@dataclass
class Read:
    """One batch of rows to store, the progress made since the last, and at the end `end`."""

    batch: Batch
    progressed: int = 0
    end: ReadEnd | None = None
    chunk: int | None = None  # the chunk it was read from, when read in parts


def read_batches(parse: Callable[[Advance], Iterable[Parsed]],
                 chat_id: str | None, host_names: set[str], screen: ImportScreen | None = None
                 ) -> Generator[Read, None, None]:
    """Read everything `parse(advance)` yields, a `Read` per BATCH messages kept.

    The host's posts (by `host_names`, which a parser may add to as it reads) and later
    versions of edited messages are set aside in the summary; every other message becomes
    its rows in a batch. Progress is passed on at least every PROGRESS_EVERY records, in
    a `Read` with no rows if need be (a file of retweets or bad lines still moves the
    bar). The last `Read` carries the summary (and may hold no rows). With `screen`, each
    message's row carries its screening and its author's name as shown (see `Reading`).
    """
    reading = Reading(chat_id, host_names, screen)
    for item in parse(reading.advance):
        yield from reading.take(item)
    yield reading.flush(end=reading.end)


class Reading:
    """One reading's state: the batch being filled, the summary so far, the progress made.

    `read_batches` feeds it a whole file; a reader of part of a file (bot/importers/parts)
    closes it chunk by chunk, and the parent finishes with what the parts set aside.
    With `screen`, every participant's message is judged as its row is built (here, in
    the reader, so the judging runs beside the writing) and its author's name screened.
    """

    def __init__(self, chat_id: str | None, host_names: set[str],
                 screen: ImportScreen | None = None) -> None:
        self.chat_id, self.host_names, self.screen = chat_id, host_names, screen
        self.end = ReadEnd()
        self.last_line: int | None = None  # the line of the last record read
        self.batch = Batch(chat_id)
        self.progressed = 0
        self.since = 0  # records since progress was last passed on

    def advance(self, n: int) -> None:
        """The parser's progress: n more bytes (or records) read."""
        self.progressed += n

    def flush(self, *, end: ReadEnd | None = None) -> Read:
        """The batch so far and the progress since the last `Read`, and start again."""
        read = Read(self.batch, self.progressed, end)
        self.batch = Batch(self.chat_id)
        self.progressed = self.since = 0
        return read

    def take(self, item: Parsed) -> Iterator[Read]:
        """Sort out one item: a `Read` when the batch is full or progress is due."""
        end = self.end
        self.since += 1
        if self.since >= PROGRESS_EVERY and self.progressed:
            yield Read(Batch(self.chat_id), self.progressed)
            self.progressed = self.since = 0
        # Several records may share a line (an API page holds up to 100 tweets). An edit
        # comes after the whole file: its line was counted when its versions were read.
        if item.line != self.last_line and not item.edit:
            self.last_line = item.line
            end.read += 1
        if item.later:
            return
        msg = item.message
        host = msg is not None and is_host(msg, self.host_names)
        if msg is not None and (host or item.edit) and not _dumpable(msg):
            msg = None  # kept whole, and nested too deep to store: a bad line, like bad JSON
        if msg is not None and not (host or item.edit):
            try:
                self._add(msg)
            except JSONEncodeError:  # the payload nested too deep to store, as above
                msg = None
        if msg is None:
            if item.skipped:
                end.skipped += 1
            elif not end.bad_lines or end.bad_lines[-1] != item.line:
                end.bad_lines.append(item.line)
            return
        end.messages += 1
        if host:
            end.host_posts.setdefault(msg.id, msg)  # overlapping searches repeat tweets
        elif item.edit:
            end.edits.append(Event("edited", msg.platform, msg.id, msg.edited or msg.created,
                                   msg))
        elif len(self.batch) >= BATCH:
            yield self.flush()


    def _add(self, msg: Message) -> None:
        """A participant's message into the batch, screened when there is a screen."""
        screen = self.screen
        if screen is None:
            self.batch.add(msg)
        elif msg.author.is_bot:  # as live: a bot's posts are not judged, nor its name
            self.batch.add(msg)
        else:
            self.batch.add(msg, screen.name(msg.author.name),
                           screen.message(msg.text, msg.created))


def _dumpable(msg: Message) -> bool:
    """Whether a message kept whole (a host post, an edit) has a payload that can be stored.

    JSON nested deeper than orjson writes (255 levels) cannot be stored, and a message kept
    whole travels pickled, which has a depth limit of its own. Other messages become rows
    at once, and `Batch.add` raises before adding anything of such a payload.
    """
    try:
        dumps(msg.raw, default=str)
    except JSONEncodeError:
        return False
    return True
