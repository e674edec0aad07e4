"""Message rows an import holds until their session is known, so each is written once.

An import learns its sessions only at the end (the host's posts can be anywhere in the
file). Rows written as they are read must then be rewritten to give them their session and
attribution: two writes of every row, the second touching every page of the table again.
Held back instead (compact tuples, `Batch` rows), each row is written once, attributed,
when its session is rebuilt; payloads, reach and participants are still written as they
are read. Holding is bounded (`HOLD_ROWS`): past it the rows are written as read and the
sessions update them as before, so memory stays flat for any file.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

# About 0.8 KB a row: 100,000 held rows add some 80 MB to an import's peak.
HOLD_ROWS = 100_000

_CREATED = 9  # a Batch row's `created` (ISO text, compared as SQL compares it)


class HeldRows:
    """Rows not yet written, in time order, taken session by session."""

    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # A stable sort: repeats of one message (overlapping searches) keep the order they
        # were read in, so writing them gives what writing them as read gave.
        self._rows = sorted(rows, key=lambda r: r[_CREATED])
        self._created = [r[_CREATED] for r in self._rows]
        self._taken = bytearray(len(self._rows))

    def __len__(self) -> int:
        """Rows held, taken or not."""
        return len(self._rows)

    def take(self, platforms: Sequence[str], start: str, end: str) -> list[tuple[Any, ...]]:
        """The rows of these platforms created in [start, end] not taken yet, now taken.

        Bounds are ISO texts compared as text, as the archive's own claim compares them.
        """
        lo = bisect_left(self._created, start)
        hi = bisect_right(self._created, end)
        out = []
        taken = self._taken
        for i in range(lo, hi):
            if not taken[i] and self._rows[i][0] in platforms:
                taken[i] = 1
                out.append(self._rows[i])
        return out

    def rest(self) -> list[tuple[Any, ...]]:
        """Every row no session took (written without a session)."""
        return [row for row, taken in zip(self._rows, self._taken, strict=True) if not taken]
