"""Clocks: everything that waits or asks "now" takes one.

So a one-hour chat can be rehearsed (or tested) in seconds and nothing in a unit test
sleeps for real.

Session time is measured in *script seconds*: seconds since the session's start as the
script sees them. A paced clock runs script time `pace` times faster than the wall.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Clock:
    """Real time. `now()` is timezone-aware UTC."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return utcnow()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for measuring intervals)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (negative waits return at once)."""
        await asyncio.sleep(max(0.0, seconds))


@dataclass
class SessionClock:
    """Maps a session's script time onto the wall clock.

    `origin` is the wall time at which script time 0 happened; `pace` is how many script
    seconds pass per wall second (1 for a live chat, 60 for a one-minute rehearsal of an
    hour). Both are stored with the session so a restarted bot resumes the same mapping.
    """

    origin: datetime
    pace: float = 1.0
    clock: Clock = Clock()

    def script_now(self) -> float:
        """The session's script time now, in script seconds."""
        return (self.clock.now() - self.origin).total_seconds() * self.pace


class FakeClock(Clock):
    """A clock the test moves by hand; sleepers wake as soon as time passes their deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        """The time the test has moved the clock to."""
        return self._now

    def monotonic(self) -> float:
        """The fake time as a number, so intervals follow `advance`."""
        return self._now.timestamp()

    def sleep(self, seconds: float) -> Coroutine[Any, Any, None]:  # type: ignore[override]
        """Wait until the test has advanced the clock by `seconds`."""
        # The deadline is fixed when sleep() is *called*, not when the coroutine first runs:
        # a sleeper wrapped in a task must not lose time that passed before it started.
        return self._sleep_until(self._now + timedelta(seconds=max(0.0, seconds)))

    async def _sleep_until(self, deadline: datetime) -> None:
        while self._now < deadline:
            self._changed.clear()
            await self._changed.wait()

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline passed."""
        self._now += timedelta(seconds=seconds)
        self._changed.set()
        # Let sleepers observe the change before the test carries on.

    async def run_for(self, seconds: float, step: float = 1.0) -> None:
        """Advance in steps, yielding to the loop so woken tasks can act between steps."""
        moved = 0.0
        while moved < seconds:
            delta = min(step, seconds - moved)
            self.advance(delta)
            moved += delta
            for _ in range(5):
                await asyncio.sleep(0)


class JumpClock(Clock):
    """Real "now" plus every second anyone has slept: waits cost no real time, yet time moves.

    Shared by an adapter and a fake server (bot.testing.fake_x) so rate-limit resets line up;
    `slept` records what was asked to wait, which tests check (never the wall clock).
    """

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        """Real now plus every second slept so far."""
        return utcnow() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        """Real monotonic time plus every second slept so far."""
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        """Record the wait and jump time forward by it, yielding briefly."""
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        self.offset += seconds
        await asyncio.sleep(0.002)  # still yield, so the other side can run
