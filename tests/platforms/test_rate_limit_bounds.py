"""A rate-limit reset said to be absurdly far ahead never stops collection silently.

X's windows are 15 minutes, Bluesky's and Mastodon's 5: a reset a century ahead (a proxy
sending milliseconds, a broken gateway) is waited for at most 15 minutes, with a log line,
and the poll interval never stretches past it either.
"""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import FakeClock, JumpClock
from bot.platforms.polling import MAX_RESET_WAIT, Poller, next_interval
from bot.testing.fake_x import FakeXServer
from tests.platforms.test_x_e2e import until
from tests.platforms.test_x_platform import make_platform

CENTURY = 100 * 365 * 86400.0


async def test_x_waits_at_most_the_cap_for_a_reset_a_century_ahead(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = JumpClock()  # records every wait the adapter asks for
    async with FakeXServer(clock=JumpClock()) as server:
        platform = make_platform(server, clock)
        await platform.start()
        server.fail_next(429, path="/2/tweets/search", reset_in=CENTURY)
        tweet = server.add_tweet("alice", "A1 hello #NHSSM")
        events = platform.events()
        first_event = asyncio.ensure_future(events.__anext__())
        try:
            await until(lambda: MAX_RESET_WAIT in clock.slept, "a capped wait")
            # Only the header lied: X's real window opened after its 15 minutes.
            server._windows["search"].reset = 0
            first = await asyncio.wait_for(first_event, 30)
        finally:
            await events.aclose()
            await platform.stop()
    assert first.message_id == tweet  # collection went on after the capped wait
    assert max(clock.slept) <= MAX_RESET_WAIT
    assert "longer than any window" in caplog.text


@given(reset_in=st.floats(allow_nan=True, allow_infinity=True) | st.just(CENTURY))
def test_every_wait_is_bounded(reset_in: float) -> None:
    clock = FakeClock()
    now = clock.now().timestamp()
    wait = Poller("Bluesky", clock).until_reset(now + reset_in)
    assert 1.0 <= wait <= MAX_RESET_WAIT
    if not math.isfinite(reset_in):
        assert wait == 60.0  # no usable header: the guess
    interval = next_interval(20.0, 0, now + reset_in, now, 3)
    assert 20.0 <= interval <= MAX_RESET_WAIT + 1.0


def test_a_reset_inside_the_window_is_waited_for_whole() -> None:
    clock = FakeClock()
    assert Poller("Mastodon", clock).until_reset(clock.now().timestamp() + 299) == 300.0
