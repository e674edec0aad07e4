"""A streaming reader for one DiscordChatExporter JSON document, however large.

An export is `{"guild": {...}, "channel": {...}, "messages": [ {...}, ... ], ...}`: the
small header values are decoded whole and the "messages" array one element at a time, so
a file of hundreds of megabytes is read in a few of them.

Decoding the elements one by one (the decoder called once a message, the reader's own
Python between them) took twice as long as decoding them; so where the buffer holds whole
messages, they are decoded many at a time: the text up to the last place where one message
ends and the next begins (`},{"id": "…", "type"`, the way DiscordChatExporter writes every
message, indented or not) is decoded as one array, by orjson (a third faster than the stdlib
decoder that reads everything else) unless the text may hold a whole number beyond 64 bits,
which orjson would turn into a float where the stdlib keeps it whole; what orjson refuses
(NaN, a lone surrogate, 1e400, nesting past 1,024) the stdlib decides, so the values are the
stdlib's, except that a lone surrogate becomes U+FFFD (`mend_surrogates`): no payload,
transcript or page could hold it, and its message was silently left out. If that text is
not whole messages after all (the pattern inside a message's text, a hostile file), it
does not decode, and those messages are read one at a time as before:
the same values, the same errors, in the same order. A candidate can only decode when it is
exact: from a message's first character, a text that decodes as an array's elements and
ends in `}` is a run of whole elements, because JSON's grammar reads a value without
looking past its end.

Bounds: a value still incomplete is read on in reads as large as the text held, so a large
message costs linear time; one message (or header value) of more than MAX_VALUE characters
is refused; a JSON error that more text cannot cure (anywhere but at the buffer's end) is
raised at once, naming the byte offset in the file; so is text that is not UTF-8, after
every whole message before it; nesting too deep for the decoder is an ExportError too.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

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
# Characters in one message or header value. Discord caps a message at 4,000 characters
# and ten embeds of 6,000; DiscordChatExporter adds authors, mentions and reaction users:
# KBs, rarely 100s of KB. A value is held several times over on its way to the archive
# (a 32 MB one peaked at 409 MB), so the bound is what keeps one value's cost in MBs.
MAX_VALUE = 4 << 20
# A decode error this close to the buffer's end may be the text running out ("nul" of
# "null", "-Infinit", "1." of "1.5", a \\uXXXX escape cut): read more before believing it.
_CUT_MARGIN = 16


# Digits as "0", a minus as "-", any other byte as a space: a number's digits in a row.
_DIGITS = bytes(48 if 48 <= byte <= 57 else 45 if byte == 45 else 32 for byte in range(256))
# orjson reads a whole number outside [-2**63, 2**64) as a float; the stdlib keeps it whole.
_WIDE = (b"0" * 20, b"-" + b"0" * 19)


def _wide_number(data: bytes) -> bool:
    """Whether `data` may hold a whole number outside 64 bits: never missed, sometimes wrong.

    Such a number has 20 digits in a row, or 19 after a minus; ids (in strings) have 19 at
    most, so only text like a long number in a message's words is a false alarm.
    """
    digits = data.translate(_DIGITS)
    return _WIDE[0] in digits or _WIDE[1] in digits


# A surrogate escape (`\ud800`) in the JSON text: the stdlib decodes a lone one, which no
# UTF-8 file, payload or page can hold. A pair decodes to one character and is never lone.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def mend_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    Discord's own text never holds one (its API is UTF-8); an export that does was edited
    or damaged. Its message is kept, with the replacement character where the broken one
    was, as a UTF-8 decoder's "replace" does, rather than lost for one character.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [mend_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {mend_surrogates(k): mend_surrogates(v) for k, v in value.items()}
    return value


def _mended(text: str, value: Any) -> Any:
    """What the stdlib decoded from `text`, mended if `text` escapes a surrogate."""
    return mend_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


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
        self.failed: ExportError | None = None  # a read error held back until it is reached
        self.max_value = MAX_VALUE
        self.messages = -1  # messages of the array handed over so far (-1: not in it)
        # Where in the file (in characters) the run last handed over begins: the same for
        # every reader of the file, so readers sharing it agree whose each run is.
        self.run_at = -1

    def _fill(self, size: int = 0) -> bool:
        if self.failed is not None:
            raise self.failed
        try:
            data = self.fp.read(size or self.chunk)
        except UnicodeDecodeError:
            raise ExportError(f"{self.where}: not UTF-8 text (at byte {self._bad_byte()})"
                              ) from None
        except OSError as e:
            raise ExportError(f"{self.where}: could not be read ({e.strerror or e})") from None
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
                if self._may_be_cut(e) and self._more():
                    continue
                raise ExportError(f"{self.where}: malformed JSON ({e.msg}) at byte "
                                  f"{self._byte_offset(self.base + e.pos)}") from None
            except RecursionError:
                raise ExportError(self._too_deep()) from None
            # A number cut by the chunk boundary decodes "successfully" ("1" of "12", "1" of
            # "1.5" or "1e+5" cut after the point or the sign): read on to be sure.
            if not self.eof and end >= len(self.buf) - 2 \
                    and _NUMBER_GOES_ON.issuperset(self.buf[end:]) and self._fill():
                continue
            value = _mended(self.buf[self.pos : end], value)
            self.pos = end
            return value

    def _may_be_cut(self, error: json.JSONDecodeError) -> bool:
        """Whether reading more may cure `error`: only one at the end of the text held can."""
        return error.pos >= len(self.buf) - _CUT_MARGIN or error.msg.startswith("Unterminated")

    def _more(self) -> bool:
        """Read on into an incomplete value: as much again as is held (linear time overall)."""
        held = len(self.buf) - self.pos
        if held > self.max_value:
            raise ExportError(
                f"{self.where}: {self._which()} (from {self._here()}) is over "
                f"{self.max_value:,} characters; this is not a DiscordChatExporter export")
        return self._fill(max(self.chunk, held))

    def _which(self) -> str:
        return f"message {self.messages + 1}" if self.messages >= 0 else "a value"

    def _here(self) -> str:
        return f"byte {self._byte_offset(self.base + self.pos)}"

    def _too_deep(self) -> str:
        return (f"{self.where}: {self._which()} is nested too deeply (from {self._here()}); "
                "this is not a DiscordChatExporter export")

    def _byte_offset(self, chars: int) -> int:
        """Where the `chars`-th character of the file starts, in bytes (on the error path).

        A file read by path is read again from its start to count; any other stream (a
        StringIO in tests) counts in characters.
        """
        name = getattr(self.fp, "name", None)
        if not isinstance(name, str):
            return chars
        # Bytes that are not UTF-8 further on stand for themselves (surrogateescape).
        decode = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        done = 0
        try:
            with open(name, "rb") as raw:
                while block := raw.read(1 << 20):
                    text = decode.decode(block)
                    if chars <= len(text):
                        return done + len(text[:chars].encode("utf-8", "surrogateescape"))
                    chars -= len(text)
                    done += len(text.encode("utf-8", "surrogateescape"))
        except OSError:
            pass
        return done + chars

    def _bad_byte(self) -> int | str:
        """The offset of the file's first byte that is not UTF-8 (on the error path)."""
        name = getattr(self.fp, "name", None)
        if not isinstance(name, str):
            return "?"
        decode = codecs.getincrementaldecoder("utf-8")()
        fed = 0
        try:
            with open(name, "rb") as raw:
                while block := raw.read(1 << 20):
                    pending = len(decode.getstate()[0])
                    try:
                        decode.decode(block)
                    except UnicodeDecodeError as e:
                        return fed - pending + e.start
                    fed += len(block)
                decode.decode(b"", final=True)
        except (OSError, UnicodeDecodeError):
            pass
        return "?"

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
                self.messages = 0
                if self._peek() == "]":
                    self.pos += 1
                else:
                    for run in self._runs():
                        self.messages += len(run)
                        yield "messages", key, run
                self.messages = -1
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
                start = self.base + self.pos
                run = self._decode_run(f"[{self.buf[self.pos : end]}]")
                if run is not None:
                    self.pos = end
                    self.run_at = start
                    yield run
                    self._expect(",")  # the boundary found holds one
                    continue
            # One at a time, up to where the run was to end (or just one message).
            while True:
                start = self.base + self.pos
                value = self._value()
                self.run_at = start
                yield [value]
                if self._expect(",", "]") == "]":
                    return
                if self.base + self.pos >= until:
                    break

    def _decode_run(self, text: str) -> list[Any] | None:
        """A run's messages; None when the text is not whole messages after all."""
        try:
            run = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # not JSON to orjson (or deeper than it goes): the stdlib decides
        else:
            if not _wide_number(text.encode("utf-8")):
                return run
        try:
            return _mended(text, self.decoder.decode(text))
        except (json.JSONDecodeError, RecursionError):
            return None  # not whole messages after all: read them one at a time

    def _run_end(self) -> int:
        """Where the last whole message in the buffer ends (after its `}`); -1 if none.

        Reads ahead (a few chunks at most) while the buffer holds no such place.
        """
        while True:
            end = self._boundary()
            if end >= 0 or self.eof or self.failed is not None \
                    or len(self.buf) - self.pos >= _AHEAD * self.chunk:
                return end
            try:
                if not self._fill():
                    return -1
            except ExportError as e:
                # Not yet: the whole messages held are handed over first, one at a time,
                # and the next read raises it (where the reader before runs raised it).
                self.failed = e
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
