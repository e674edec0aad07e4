"""X's failures as our own exceptions.

What backing off can fix, what waiting for a reset can fix, and what only a person
can (a top-up when the pay-per-use credits are spent).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bot.platforms.base import PlatformError, PlatformHeld


class Transient(PlatformError):
    """A 5xx, a timeout or a dropped connection: backing off may help."""


class RateLimited(PlatformError):
    """A 429: `reset` is when the 15-minute window resets.

    `daily_reset` is set when a 24-hour cap (user or app) is spent instead, which the
    15-minute reset does not lift.
    """

    def __init__(self, message: str, reset: float | None,
                 daily_reset: float | None = None) -> None:
        super().__init__(message, retryable=True)
        self.reset = reset
        self.daily_reset = daily_reset


class CreditsSpent(PlatformHeld):
    """A 402: the pay-per-use credits are gone; nothing works until someone tops up."""

    def __init__(self) -> None:
        super().__init__(
            "X: the API credits are spent (402 Payment Required); top up in the X Developer "
            "Console (see docs/x.md)")


class DailyCapReached(PlatformHeld):
    """A 24-hour posting cap (user or app) is spent: X takes posts again at its reset."""

    def __init__(self, reset: float) -> None:
        at = datetime.fromtimestamp(reset, tz=UTC)
        super().__init__(
            f"X's 24-hour posting cap is reached; it resets at {at:%d %b %H:%M} UTC",
            retry_at=at)


def daily_cap_reset(headers: Mapping[str, str]) -> float | None:
    """When a spent 24-hour posting cap resets (epoch seconds), or None if none is spent."""
    for scope in ("user", "app"):
        if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
            try:
                return float(headers[f"x-{scope}-limit-24hour-reset"])
            except (KeyError, ValueError):
                return None
    return None


class Stopped(PlatformError):
    """stop() was called while the adapter was waiting."""
