"""Reading JSON-lines exports one line at a time, for importers whose records are API responses.

Each line is parsed on its own (memory stays flat), a bad line is counted by number and
never fatal, and progress is reported in bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bot.importers.common import Parsed

MAX_LINE = 32 << 20  # one API response per line: bigger than this is not one


def parse_json_lines(lines: Iterable[bytes], records: Callable[[int, Any], Iterator[Parsed]],
                     progress: Callable[[int], None] | None = None) -> Iterator[Parsed]:
    """Each non-blank line as JSON handed to `records(number, value)`.

    A line that is not JSON, too big, or that `records` refuses (ValueError, KeyError,
    TypeError, AttributeError) is a bad line.
    """
    pending = 0
    for number, line in enumerate(lines, 1):
        pending += len(line)
        if progress is not None and pending >= 1 << 20:
            progress(pending)
            pending = 0
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            yield Parsed(number, error=f"line over {MAX_LINE} bytes")
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield Parsed(number, error=f"not JSON ({e})")
            continue
        try:
            yield from records(number, value)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            yield Parsed(number, error=str(e) or type(e).__name__)
    if progress is not None and pending:
        progress(pending)


def parse_json_file(path: str | Path, records: Callable[[int, Any], Iterator[Parsed]],
                    progress: Callable[[int], None] | None = None) -> Iterator[Parsed]:
    """`parse_json_lines` over the file at `path`, read as bytes."""
    with open(path, "rb") as f:
        yield from parse_json_lines(f, records, progress)
