"""The collector supervises each platform's live stream (issue 16, finding 1): a stream
that fails is restarted with backoff after a backfill, the moderators are told when it
stays down and when it is back, and gaps a platform reports reach them too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from bot.archive import Archive
from bot.clock import FakeClock
from bot.collector import ALERT_AFTER_FAILURES, Collector
from bot.platforms.base import ChatContext, PlatformError
from bot.platforms.memory import MemoryPlatform
from bot.records import Event


class FlakyPlatform(MemoryPlatform):
    """The memory platform whose stream fails `failures` times before it works."""

    def __init__(self, failures: int, clock: FakeClock) -> None:
        super().__init__(ChatContext("c", "Chat", "#c", {}), clock=clock)
        self.failures = failures
        self.streams = 0

    async def events(self) -> AsyncIterator[Event]:  # type: ignore[override]
        self.streams += 1
        if self.failures > 0:
            self.failures -= 1
            raise PlatformError("search refused: 400 since_id too old", retryable=False)
        async for event in super().events():
            yield event


async def _settle(clock: FakeClock, seconds: float) -> None:
    await clock.run_for(seconds, step=0.5)
    for _ in range(20):
        await asyncio.sleep(0)


def _watched(tmp_path: Path, platform: FlakyPlatform,
             clock: FakeClock) -> tuple[Collector, list[str]]:
    """A collector of `platform` whose moderator alerts land in the returned list."""
    alerts: list[str] = []

    async def alert(session_id: int | None, text: str) -> None:
        alerts.append(text)

    collector = Collector(Archive(tmp_path / "a.db"), "c", platform,
                          live_session=lambda: None, clock=clock, on_alert=alert)
    return collector, alerts


async def test_a_failing_stream_is_restarted_and_the_moderators_told(tmp_path: Path) -> None:
    clock = FakeClock()
    platform = FlakyPlatform(ALERT_AFTER_FAILURES + 1, clock)
    collector, alerts = _watched(tmp_path, platform, clock)
    collector.start()
    await _settle(clock, 60)
    assert platform.streams == ALERT_AFTER_FAILURES + 2  # failed 4 times, then runs
    assert collector.restarts == ALERT_AFTER_FAILURES + 1
    assert len(alerts) == 1 and "collecting replies has been failing" in alerts[0]
    assert "since_id too old" in alerts[0]
    platform.say("ann", "A1 still here")
    await _settle(clock, 2)
    assert alerts[-1] == "memory: collecting again"
    await collector.stop()  # flushes the batch
    assert collector.stored == 1
    await platform.stop()


async def test_a_clean_end_is_not_restarted(tmp_path: Path) -> None:
    clock = FakeClock()
    platform = FlakyPlatform(0, clock)
    collector = Collector(Archive(tmp_path / "a.db"), "c", platform,
                          live_session=lambda: None, clock=clock)
    collector.start()
    await _settle(clock, 1)
    await platform.stop()  # the stream ends cleanly
    await _settle(clock, 600)
    assert platform.streams == 1 and collector.restarts == 0
    await collector.stop()


async def test_gaps_the_platform_reports_reach_the_moderators(tmp_path: Path) -> None:
    clock = FakeClock()
    platform = FlakyPlatform(0, clock)
    collector, alerts = _watched(tmp_path, platform, clock)
    platform.report_gap("replies between 10:00 and 11:00 UTC could not be searched")
    await collector.backfill()
    assert alerts == ["memory: replies between 10:00 and 11:00 UTC could not be searched"]
    await collector.backfill()
    assert len(alerts) == 1  # told once


async def test_a_gap_is_told_even_when_nothing_else_arrives(tmp_path: Path) -> None:
    clock = FakeClock()
    platform = FlakyPlatform(0, clock)
    collector, alerts = _watched(tmp_path, platform, clock)
    collector.start()
    platform.report_gap("replies before 10:00 UTC are out of reach")
    for _ in range(100):  # the check runs on a timer of GAP_CHECK_SECONDS
        if alerts:
            break
        await asyncio.sleep(0.1)
    assert alerts == ["memory: replies before 10:00 UTC are out of reach"]
    await platform.stop()
    await collector.stop()
