"""Posts held back by X's spent credits (402) or 24-hour cap go out once X takes them again.

The strict fake X answers 402 to everything while its ledger is empty. The host keeps the
refused post and every later one owed in the archive, asks X again on a slow, capped
backoff (not every few seconds), survives a crash while holding, and after the top-up
posts what is owed once each, in order, telling the moderators both when the hold begins
and when posting resumes. All on a FakeClock: no wall-clock waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.clock import FakeClock
from bot.held_posts import HoldPolicy, Holds
from bot.host import ControlError, RetryPolicy, SessionHost
from bot.platforms.base import ChatContext
from bot.platforms.x.adapter import XPlatform
from bot.script import ChatScript
from bot.testing.fake_x import FakeXServer
from tests.platforms.test_x_platform import TOKENS

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3, base_seconds=1,
                     hold=HoldPolicy(first_seconds=60, cap_seconds=600, limit_hours=6))


class Scene:
    """One X-only session of the small script, its host, and what the moderators heard."""

    def __init__(self, archive: Archive, clock: FakeClock, x: XPlatform,
                 server: FakeXServer, script: ChatScript, policy: RetryPolicy = POLICY) -> None:
        self.archive, self.clock, self.x, self.server = archive, clock, x, server
        self.policy = policy
        self.alerts: list[str] = []
        self.sid = archive.create_session(
            chat_id="test", title=script.title, hashtag=script.hashtag,
            timezone="Europe/London", scheduled_start=START, duration_minutes=5,
            platforms=["x"], items=script.timeline(), host_name="Host")
        archive.update_session(self.sid, origin=START, started_at=START, status="live")
        self.task: asyncio.Task[None] | None = None
        self.running: SessionHost | None = None

    async def alert(self, session_id: int | None, text: str) -> None:
        self.alerts.append(text)

    def host(self) -> None:
        host = SessionHost(self.archive, self.sid, {"x": self.x}, clock=self.clock,
                           retry=self.policy, on_alert=self.alert)
        self.running = host
        self.task = asyncio.create_task(host.run())

    async def until(self, done: Callable[[], bool], what: str, limit: int = 2000,
                    step: float = 5.0) -> None:
        for _ in range(limit):
            if done():
                return
            self.clock.advance(step)  # fake time moves; real time lets the HTTP answer
            for _ in range(3):
                await asyncio.sleep(0.005)
        raise AssertionError(f"never happened: {what}; alerts: {self.alerts}")

    def statuses(self) -> dict[str, str]:
        return {i.key: self.archive.outbox(self.sid, i.key)[0]["status"]
                for i in self.archive.items(self.sid)}

    def refused_posts(self) -> int:
        return sum(1 for r in self.server.requests
                   if r.method == "POST" and r.path == "/2/tweets" and r.status == 402)


@asynccontextmanager
async def started_x(clock: FakeClock) -> AsyncIterator[tuple[FakeXServer, XPlatform]]:
    """The strict fake X with credits, and the adapter started against it."""
    async with FakeXServer(clock=clock, credits=50.0) as server:
        x = XPlatform(ChatContext("test", "Test chat", "#TestChat", {"request_timeout": 10}),
                      **TOKENS, base_url=server.base_url, clock=clock)
        await x.start()
        yield server, x


def spent_from_the_start(tmp_path: Path, script: ChatScript, clock: FakeClock,
                         server: FakeXServer, x: XPlatform, hold: HoldPolicy) -> Scene:
    """A session hosted with `hold` on an X whose credits are already spent."""
    server.ledger.credits = 0.0
    policy = RetryPolicy(attempts=3, base_seconds=1, hold=hold)
    scene = Scene(Archive(tmp_path / "a.db"), clock, x, server, script, policy)
    scene.host()
    return scene


async def test_posts_refused_for_spent_credits_go_out_in_order_after_the_top_up(
    tmp_path: Path, small_script: ChatScript
) -> None:
    clock = FakeClock(START - timedelta(seconds=5))
    async with started_x(clock) as (server, x):
        scene = Scene(Archive(tmp_path / "a.db"), clock, x, server, small_script)
        scene.host()
        await scene.until(lambda: scene.statuses()["welcome"] == "sent", "the welcome")

        server.ledger.credits = 0.0  # spent: X answers 402 to everything
        await scene.until(lambda: any("q1 is held on x" in a for a in scene.alerts), "the hold")
        assert "credits are spent" in scene.alerts[0] and "go out in order" in scene.alerts[0]

        # Half an hour in which every later item falls due: they queue behind Q1 without a
        # request each, and X is asked again at 1, 2, 4, 8, 10, 10 minutes, not every 5 s.
        held_at = clock.now()
        await scene.until(lambda: clock.now() >= held_at + timedelta(minutes=30), "30 min")
        assert scene.statuses() == {"welcome": "sent", "q1": "owed", "q2": "owed",
                                    "q3": "owed", "close": "owed"}
        assert 4 <= scene.refused_posts() <= 7, scene.refused_posts()
        assert len(scene.alerts) == 1  # told once, not at every attempt

        # The bot crashes while holding; what is owed is in the archive, not in memory.
        assert scene.task is not None
        scene.task.cancel()
        await asyncio.gather(scene.task, return_exceptions=True)
        scene.host()
        await scene.until(lambda: scene.refused_posts() >= 7, "asked again after the restart")

        server.ledger.credits = 50.0  # the moderators top up
        await scene.until(lambda: scene.task is not None and scene.task.done(), "the session")
        await x.stop()

    posted = [t["text"] for t in server.posted]
    expected = [i.text for i in small_script.timeline()]
    assert [p.removesuffix(" #TestChat") for p in posted] == expected  # once each, in order
    assert set(scene.statuses().values()) == {"sent"}
    assert {i.status for i in scene.archive.items(scene.sid)} == {"sent"}
    resumed = [a for a in scene.alerts if "posting again" in a]
    assert resumed == [resumed[0]] and "q1, q2, q3, close" in resumed[0]
    assert scene.archive.session(scene.sid).status == "ended"


async def test_a_hold_that_never_lifts_is_given_up_and_the_session_ends(
    tmp_path: Path, small_script: ChatScript
) -> None:
    clock = FakeClock(START - timedelta(seconds=5))
    async with started_x(clock) as (server, x):
        scene = spent_from_the_start(tmp_path, small_script, clock, server, x, HoldPolicy(
            first_seconds=60, cap_seconds=600, limit_hours=2))
        await scene.until(lambda: scene.task is not None and scene.task.done(), "the end",
                          step=30)
        await x.stop()
    assert set(scene.statuses().values()) == {"failed"}
    assert any("gave up on welcome, q1, q2, q3, close after 2 h" in a for a in scene.alerts)
    # Two hours at one request every ten minutes at most, after the first few.
    assert scene.refused_posts() <= 2 * 6 + 5


async def test_resume_after_the_top_up_asks_again_at_once(
    tmp_path: Path, small_script: ChatScript
) -> None:
    clock = FakeClock(START - timedelta(seconds=5))
    async with started_x(clock) as (server, x):
        scene = spent_from_the_start(tmp_path, small_script, clock, server, x, HoldPolicy(
            first_seconds=1800, cap_seconds=3600, limit_hours=6))  # next ask: 30 min away
        await scene.until(lambda: any("is held on x" in a for a in scene.alerts), "the hold")
        assert scene.running is not None
        with pytest.raises(ControlError, match="not paused"):
            SessionHost(scene.archive, scene.sid, {"x": x}, clock=clock).control("resume")
        server.ledger.credits = 50.0  # topped up; the moderator says so
        assert scene.running.control("resume") == "resumed: asking x for the owed posts now"
        resumed_at = clock.now()
        await scene.until(lambda: scene.task is not None and scene.task.done(), "the session")
        await x.stop()
    assert clock.now() - resumed_at < timedelta(minutes=5)  # fake time: not the 30 min wait
    assert len(server.posted) == len(small_script.timeline())
    assert set(scene.statuses().values()) == {"sent"}


async def test_a_spent_24_hour_cap_holds_the_posts_until_its_reset_without_asking_before(
    tmp_path: Path, small_script: ChatScript
) -> None:
    clock = FakeClock(START - timedelta(seconds=5))
    policy = RetryPolicy(attempts=3, base_seconds=1,
                         hold=HoldPolicy(first_seconds=60, cap_seconds=600, limit_hours=30))
    async with started_x(clock) as (server, x):
        server.caps.windows["user"].limit = 2  # the welcome and Q1, then the cap is spent
        scene = Scene(Archive(tmp_path / "a.db"), clock, x, server, small_script, policy)
        scene.host()
        await scene.until(lambda: any("q2 is held on x" in a for a in scene.alerts), "the hold")
        reset = datetime.fromtimestamp(server.caps.windows["user"].reset, tz=UTC)
        assert f"asked again at {reset:%d %b %H:%M} UTC" in scene.alerts[0]
        assert "24-hour posting cap" in scene.alerts[0]
        await scene.until(lambda: clock.now() >= reset - timedelta(minutes=10),
                          "just before the reset", step=600)
        # The cap's reset is known: X was not asked again before it (one 429, the first).
        assert scene.statuses() == {"welcome": "sent", "q1": "sent", "q2": "owed",
                                    "q3": "owed", "close": "owed"}
        assert sum(1 for r in server.requests if r.method == "POST" and r.status == 429) == 1
        await scene.until(lambda: scene.task is not None and scene.task.done(), "the session",
                          step=60)
        await x.stop()
    assert clock.now() >= reset
    posted = [t["text"].removesuffix(" #TestChat") for t in server.posted]
    assert posted == [i.text for i in small_script.timeline()]  # once each, in order
    assert set(scene.statuses().values()) == {"sent"}
    assert any("posting again" in a for a in scene.alerts)


def test_the_backoff_doubles_to_its_cap_and_restarts_with_a_new_hold() -> None:
    clock = FakeClock(START)
    holds = Holds(HoldPolicy(first_seconds=60, cap_seconds=300, limit_hours=1), clock)
    assert holds.refused("x", "402") is True
    waits = []
    for _ in range(5):
        waits.append(holds.seconds_to_next())
        clock.advance(holds.seconds_to_next() or 0)
        assert holds.due() == ["x"]
        assert holds.refused("x", "402") is False
    assert waits == [60, 120, 240, 300, 300]
    assert not holds.expired("x")
    clock.advance(3600)
    assert holds.expired("x")
    assert holds.release("x") is not None and "x" not in holds
    assert holds.seconds_to_next() is None


def test_a_hold_waiting_for_an_announced_reset_is_not_given_up_before_it() -> None:
    # Credits spent first (402), then the 24-hour cap answers with a reset 30 h after the
    # hold began: the 24 h limit must not fail the posts before X is asked after the reset.
    clock = FakeClock(START)
    holds = Holds(HoldPolicy(first_seconds=60, cap_seconds=600, limit_hours=24), clock)
    assert holds.refused("x", "402") is True
    clock.advance(10 * 3600)
    reset = clock.now() + timedelta(hours=20)
    assert holds.refused("x", "cap", retry_at=reset) is False
    clock.advance(14 * 3600 + 60)  # 24 h and a minute since the hold began
    assert not holds.expired("x") and holds.due() == []
    clock.advance(6 * 3600)  # the reset: asked now
    assert holds.due() == ["x"] and not holds.expired("x")
    assert holds.refused("x", "402 again") is False  # refused for another reason after it
    assert holds.expired("x")  # now the limit applies
