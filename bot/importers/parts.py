"""One file read by several readers at once: its chunks of lines taken in turns.

A file of JSON lines is cut into chunks of `Part.chunk_bytes` (a line belongs to the chunk
its first byte is in); reader i of n reads chunks i, i + n, i + 2n, ... and passes over the
others' lines as empty ones, so line numbers stay the file's own. Each reader sends its
chunks' batches in order and closes every chunk of its share, even one with nothing in it,
with that chunk's summary. The merge takes chunk 0 from reader 0, chunk 1 from reader 1,
and so on: the writer gets the rows in the file's order, and the summaries added up in that
order are what one reader of the whole file would have found.

Of the parser this asks only that it read the lines it is given, and that what it would
keep to the end of the file (an edited tweet's versions, merged once all are read) goes to
`Part.set_aside` instead; `Split.finish` merges every part's, in file order, at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import IO, TYPE_CHECKING

from bot.forking import stream_from_child
from bot.importers.reading import Advance, Parsed, Read, ReadEnd, Reading

if TYPE_CHECKING:
    from bot.moderation.imported import ImportScreen

CHUNK_BYTES = 4 << 20  # about 3,000 tweets of a twarc2 file: one batch or less per chunk


@dataclass
class Part:
    """Which chunks one reader takes, and where its parser stands."""

    index: int  # this reader's number, from 0
    of: int  # readers in all
    chunk_bytes: int = CHUNK_BYTES
    chunk: int = 0  # the chunk of the line last handed to the parser
    set_aside: list[Parsed] = field(default_factory=list)  # kept by the parser to the end

    def owns(self, chunk: int) -> bool:
        """Whether `chunk` is this reader's."""
        return chunk % self.of == self.index


@dataclass(frozen=True)
class Split:
    """How an importer's file is read in parts.

    `parse(advance, part)` yields the items of the part's lines (see `part_lines`), with
    what it keeps to the end in `part.set_aside`; `finish(items)` turns every part's
    set-aside items, in file order, into the items one reader would have yielded last.
    """

    parse: Callable[[Advance, Part], Iterable[Parsed]]
    finish: Callable[[list[Parsed]], Iterable[Parsed]]
    size: int  # the file's bytes


def chunks(size: int, chunk_bytes: int) -> int:
    """How many chunks a file of `size` bytes has (a line starts in one of them)."""
    return max(1, -(-size // chunk_bytes))


class FileChanged(ValueError):
    """The file is shorter than when the import began: rewritten or cut while it was read."""


def part_lines(file: IO[bytes], part: Part, size: int) -> Iterator[bytes]:
    """Every line starting in the first `size` bytes: the part's own, others' as empty lines.

    What was appended to the file since the import began is left out. A file that ends
    before `size` raises FileChanged: what was read of it may not be what the file holds.
    """
    position = 0
    for line in file:
        if position >= size:
            return
        chunk = position // part.chunk_bytes
        position += len(line)
        if part.owns(chunk):
            part.chunk = chunk
            yield line
        else:
            yield b""
    if position < size:
        raise FileChanged(f"it changed while it was read (now {position:,} bytes, "
                          f"{size:,} when the import began); import it again once nothing "
                          "is writing to it")


def read_part(split: Split, part: Part, chat_id: str | None, host_names: set[str],
              screen: ImportScreen | None = None) -> Generator[Read, None, None]:
    """One reader's chunks: their batches, each chunk closed by a `Read` with its summary.

    The summary of a chunk is in `Read.end` (with the items set aside while reading it, and
    `last_line`); every chunk of the part's share is closed, in order, even an empty one.
    With `screen`, its rows are screened as they are built (see `Reading`).
    """
    reading = Reading(chat_id, host_names, screen)
    total = chunks(split.size, part.chunk_bytes)
    current = part.index

    def close_before(chunk: int) -> Iterator[Read]:
        nonlocal current
        while current < chunk:
            end = reading.end
            end.set_aside = part.set_aside[:]  # the parser keeps adding to the list itself
            part.set_aside.clear()
            end.last_line = reading.last_line
            read = reading.flush(end=end)
            read.chunk = current
            yield read
            reading.end, reading.last_line = ReadEnd(), None
            current += part.of

    try:
        for item in split.parse(reading.advance, part):
            if part.chunk != current:  # the parser has moved on to a later chunk of ours
                yield from close_before(part.chunk)
            for read in reading.take(item):
                read.chunk = current
                yield read
    except Exception:
        # The chunks before the one that failed are done: closed first, so the merge
        # reaches the other reader's chunks in between (an earlier error there is the
        # one a single reader would have met first) before this one.
        yield from close_before(part.chunk)
        raise
    yield from close_before(total)


def read_in_parts(split: Split, readers: int, chat_id: str | None, host_names: set[str], *,
                  fork: bool, chunk_bytes: int = CHUNK_BYTES, screen: ImportScreen | None = None
                  ) -> Generator[Read, None, None]:
    """The file read by `readers` readers (forked children, or generators here), merged.

    The readers start at the first `Read` asked for, side by side, and are closed (a forked
    one killed if need be, and reaped) on any way out, each whatever the others do.
    """
    with ExitStack() as stack:
        started: list[Generator[Read, None, None]] = []
        for index in range(readers):
            produce = partial(read_part, split, Part(index, readers, chunk_bytes), chat_id,
                              host_names, screen)
            stream = stream_from_child(produce, now=True) if fork else produce()
            stack.callback(stream.close)
            started.append(stream)
        yield from _merge(started, split, chunk_bytes, chat_id, host_names, screen)


def merge_parts(readers: list[Generator[Read, None, None]], split: Split, chunk_bytes: int,
                chat_id: str | None, host_names: set[str], screen: ImportScreen | None = None
                ) -> Generator[Read, None, None]:
    """The readers' `Read`s in file order, ending as `read_batches` ends: one summary.

    Every reader is closed on the way out, whatever the others do.
    """
    with ExitStack() as stack:
        for reader in readers:
            stack.callback(reader.close)
        yield from _merge(readers, split, chunk_bytes, chat_id, host_names, screen)


def _merge(readers: list[Generator[Read, None, None]], split: Split, chunk_bytes: int,
           chat_id: str | None, host_names: set[str], screen: ImportScreen | None
           ) -> Generator[Read, None, None]:
    whole = Reading(chat_id, host_names, screen)
    set_aside: list[Parsed] = []
    for chunk in range(chunks(split.size, chunk_bytes)):
        reader = readers[chunk % len(readers)]
        while True:
            read = next(reader)
            if read.chunk != chunk:
                raise RuntimeError(f"a reader sent chunk {read.chunk} for chunk {chunk}")
            end = read.end
            if end is None:
                yield read
                continue
            _add(whole, end)
            set_aside.extend(end.set_aside)
            yield Read(read.batch, read.progressed)
            break
    for reader in readers:  # each has closed its share: to its end, so a child ends well
        for read in reader:
            raise RuntimeError(f"a reader sent chunk {read.chunk} past the last")
    # Sorted by line (stable: one line's items are one reader's, in its order): a reader
    # may file an item under its previous chunk when the next begins with it.
    set_aside.sort(key=lambda item: item.line)
    for item in split.finish(set_aside):
        yield from whole.take(item)
    yield whole.flush(end=whole.end)


def _add(whole: Reading, chunk: ReadEnd) -> None:
    """A chunk's summary added to the file's, as one reader would have counted it."""
    end = whole.end
    end.read += chunk.read
    end.messages += chunk.messages
    end.skipped += chunk.skipped
    end.bad_lines.extend(chunk.bad_lines)  # chunks hold different lines, in file order
    for key, message in chunk.host_posts.items():
        end.host_posts.setdefault(key, message)
    end.edits.extend(chunk.edits)
    if chunk.last_line is not None:
        whole.last_line = chunk.last_line
