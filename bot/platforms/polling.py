"""What every polling adapter (Bluesky, Mastodon) needs.

A stop-aware sleep on the injected clock and one retry rule for reads (429: wait for
the reset; 5xx and timeouts: exponential back-off, for ever while live, a few times in
a backfill).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

from bot.clock import Clock
from bot.platforms.base import PlatformError

log = logging.getLogger(__name__)
T = TypeVar("T")
# Rate-limit windows are 15 minutes on X and 5 on Bluesky and Mastodon. A reset said to be
# further ahead is a broken header, clock or proxy (milliseconds read as seconds): waiting
# for it would stop collection without a word, so nobody waits longer than this.
MAX_RESET_WAIT = 15 * 60.0


def reset_wait(name: str, reset: float | None, now: float, unknown: float = 60.0) -> float:
    """Seconds to wait for a rate-limit reset at `reset` (epoch seconds), at most 15 minutes.

    `unknown` when the service did not say; an odd reset is logged and cut to the cap.
    """
    if reset is None or not math.isfinite(reset):
        return unknown
    wait = max(1.0, reset - now + 1.0)
    if wait > MAX_RESET_WAIT:
        log.warning("%s: the rate limit is said to reset in %.0f s, longer than any window; "
                    "asking again in %.0f s", name, wait, MAX_RESET_WAIT)
        return MAX_RESET_WAIT
    return wait


class RateLimited(PlatformError):
    """A 429: wait until `reset` (epoch seconds, None when the service did not say)."""

    def __init__(self, message: str, reset: float | None = None) -> None:
        super().__init__(message, retryable=True)
        self.reset = reset


class Transient(PlatformError):
    """A 5xx, a timeout or a dropped connection: backing off may help."""


class Stopped(Exception):
    """stop() was called while the adapter waited."""


class Poller:
    """Sleeps and retries for one adapter; `stop()` wakes every sleeper with Stopped."""

    def __init__(self, name: str, clock: Clock, *, base: float = 1.0, cap: float = 300.0,
                 attempts: int = 5) -> None:
        self.name = name
        self.clock = clock
        self.base = base
        self.cap = cap
        self.attempts = attempts
        self.stopping = asyncio.Event()

    def until_reset(self, reset: float | None) -> float:
        """Seconds to wait for a rate-limit reset at `reset` (a guess when unknown)."""
        return reset_wait(self.name, reset, self.clock.now().timestamp())

    async def sleep(self, seconds: float) -> None:
        """Sleep on the clock; Stopped as soon as the adapter is stopping."""
        if self.stopping.is_set():
            raise Stopped
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        if self.stopping.is_set():
            raise Stopped

    async def retrying(self, call: Callable[[], Awaitable[T]], *, persistent: bool) -> T:
        """Run `call`, retrying rate limits and transient failures by the polling rule."""
        failures = 0
        while True:
            try:
                return await call()
            except RateLimited as e:
                wait = self.until_reset(e.reset)
                log.info("%s: rate limit reached; waiting %.0f s for the reset", self.name, wait)
                await self.sleep(wait)
            except Transient as e:
                failures += 1
                if not persistent and failures >= self.attempts:
                    raise
                delay = min(self.cap, self.base * 2 ** (failures - 1))
                log.warning("%s: %s; retrying in %.1f s", self.name, e, delay)
                await self.sleep(delay)


    @contextlib.contextmanager
    def until_stopped(self) -> Iterator[None]:
        """Around a stream of events: stop() ends it quietly, even mid-request."""
        try:
            yield
        except Stopped:
            return
        except PlatformError:
            if not self.stopping.is_set():
                raise  # else stop() closed the client under a request: the stream just ends

    async def next_from(self, queue: asyncio.Queue[T], ended: asyncio.Event,
                        seconds: float) -> T | None:
        """The next item of a live stream's queue, or None when `seconds` pass or it ends.

        Stopped as soon as the adapter is stopping.
        """
        getter = asyncio.ensure_future(queue.get())
        ender = asyncio.ensure_future(ended.wait())
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({getter, ender, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ender, sleeper):
                task.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if sleeper.done() and not sleeper.cancelled() and isinstance(sleeper.exception(),
                                                                     Stopped):
            raise Stopped
        return None

    async def one_cycle(self, cycle: Callable[[], Awaitable[Sequence[T]]],
                        cursor: Callable[[], dict[str, str]], acked: dict[str, str],
                        interval: Callable[[], float]) -> AsyncIterator[T]:
        """One polling cycle: its events handed over, a sleep, then the cursor acknowledged.

        The cursor as it stood after the cycle is acknowledged only once the caller has
        asked for more after the last event, i.e. once it has taken them all.
        """
        for item in await cycle():
            yield item
        handed_over = cursor()
        await self.sleep(interval())
        acked.update(handed_over)


def next_interval(minimum: float, remaining: int | None, reset: float | None, now: float,
                  requests_per_cycle: int) -> float:
    """Spread what is left of a rate-limit window over the time left in it (at most 15 min)."""
    if remaining is None or reset is None or not math.isfinite(reset):
        return minimum
    left = min(max(0.0, reset - now), MAX_RESET_WAIT)
    cycles = remaining // max(1, requests_per_cycle)
    return max(minimum, left + 1.0) if cycles <= 0 else max(minimum, left / cycles)
