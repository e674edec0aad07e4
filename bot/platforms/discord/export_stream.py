"""A streaming reader for one DiscordChatExporter JSON document, however large.

An export is `{"guild": {...}, "channel": {...}, "messages": [ {...}, ... ], ...}`: the
small header values are decoded whole and the "messages" array one element at a time, so
a file of hundreds of megabytes is read in a few of them.

Decoding the elements one by one (the decoder called once a message, the reader's own
Python between them) took twice as long as decoding them; so where the buffer holds whole
messages, they are decoded many at a time: the text up to the last place where one message
ends and the next begins (`},{"id": "…", "type"`, the way DiscordChatExporter writes every
message, indented or not) is decoded as one array by the same decoder. If that text is not
whole messages after all (the pattern inside a message's text, a hostile file), it does not
decode, and those messages are read one at a time as before: the same values, the same
errors, in the same order. A candidate can only decode when it is exact: from a message's
first character, a text that decodes as an array's elements and ends in `}` is a run of
whole elements, because JSON's grammar reads a value without looking past its end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

CHUNK = 1 << 16

_SPACE = "[ \t\r\n]*"
# Where one message ends and the next begins, up to its "type" key (searched for from the
# right: the last such place in the buffer ends the run of whole messages before it).
_BOUNDARY = re.compile(
    rf'\}}{_SPACE},{_SPACE}\{{{_SPACE}"id"{_SPACE}:{_SPACE}"[0-9]*"{_SPACE},{_SPACE}"type"\Z'
)
_TYPE_KEY = '"type"'
_NUMBER_GOES_ON = frozenset("0123456789.eE+-")  # what may follow a number's first part
_BOUNDARY_SPAN = 160  # characters before "type" where the boundary must start: 2-space indents
_TRIES = 4  # "type" keys tried from the right before reading one message at a time
_AHEAD = 4  # chunks read ahead, at most, to find the end of a run of whole messages


class ExportError(ValueError):
    """The file is not a usable DiscordChatExporter JSON export (message says where and why)."""


class ExportReader:
    """Incremental reader for `{"key": value, ..., "messages": [ {...}, ... ], ...}`."""

    def __init__(self, fp: IO[str], where: str, chunk: int = CHUNK) -> None:
        self.fp, self.where, self.chunk = fp, where, chunk
        self.buf, self.pos, self.eof = "", 0, False
        self.base = 0  # where in the file (in characters) the buffer starts
        self.decoder = json.JSONDecoder()
        self.barren = -1  # the buffer's length when no run of whole messages was found in it

    def _fill(self) -> bool:
        data = self.fp.read(self.chunk)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.base += self.pos
        self.pos = 0
        self.barren = -1
        return True

    def _peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def _expect(self, *chars: str) -> str:
        found = self._peek()
        if found not in chars:
            shown = repr(found) if found else "end of file"
            raise ExportError(
                f"{self.where}: malformed JSON, expected {' or '.join(chars)}, got {shown}"
            )
        self.pos += 1
        return found

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if self._fill():
                    continue
                raise ExportError(f"{self.where}: malformed JSON ({e.msg})") from None
            # A number cut by the chunk boundary decodes "successfully" ("1" of "12", "1" of
            # "1.5" or "1e+5" cut after the point or the sign): read on to be sure.
            if not self.eof and end >= len(self.buf) - 2 \
                    and _NUMBER_GOES_ON.issuperset(self.buf[end:]) and self._fill():
                continue
            self.pos = end
            return value

    def document(self) -> Iterator[tuple[str, str, Any]]:
        """The document's top-level entries in file order, each `(kind, key, value)`.

        A key's value is ("header", key, value); the messages array is ("header",
        "messages", []) and then ("messages", "messages", elements) for each run of its
        elements (a list: many at once where they decode together, else one).
        """
        self._expect("{")
        if self._peek() == "}":
            return
        while True:
            key = self._value()
            if not isinstance(key, str):
                raise ExportError(f"{self.where}: malformed JSON, expected a key")
            self._expect(":")
            if key == "messages" and self._peek() == "[":
                self.pos += 1
                yield "header", key, []
                if self._peek() == "]":
                    self.pos += 1
                else:
                    for run in self._runs():
                        yield "messages", key, run
            else:
                yield "header", key, self._value()
            if self._expect(",", "}") == "}":
                return

    def _runs(self) -> Iterator[list[Any]]:
        """The messages array's elements in runs, from its first to its closing `]` (read)."""
        while True:
            end = self._run_end()
            until = self.base + end  # in the file: a slow read below may refill the buffer
            if end > self.pos:
                try:
                    run = self.decoder.decode(f"[{self.buf[self.pos : end]}]")
                except (json.JSONDecodeError, RecursionError):
                    run = None  # not whole messages after all: read them one at a time
                if run is not None:
                    self.pos = end
                    yield run
                    self._expect(",")  # the boundary found holds one
                    continue
            # One at a time, up to where the run was to end (or just one message).
            while True:
                yield [self._value()]
                if self._expect(",", "]") == "]":
                    return
                if self.base + self.pos >= until:
                    break

    def _run_end(self) -> int:
        """Where the last whole message in the buffer ends (after its `}`); -1 if none.

        Reads ahead (a few chunks at most) while the buffer holds no such place.
        """
        while True:
            end = self._boundary()
            if end >= 0 or self.eof or len(self.buf) - self.pos >= _AHEAD * self.chunk:
                return end
            if not self._fill():
                return -1

    def _boundary(self) -> int:
        if self.barren == len(self.buf):
            return -1  # searched already, and nothing was read since
        found = len(self.buf)
        for _ in range(_TRIES):
            found = self.buf.rfind(_TYPE_KEY, self.pos, found)
            if found < 0:
                break
            tail = found + len(_TYPE_KEY)
            match = _BOUNDARY.search(self.buf, max(self.pos, found - _BOUNDARY_SPAN), tail)
            if match is not None:
                return match.start() + 1
        self.barren = len(self.buf)
        return -1
