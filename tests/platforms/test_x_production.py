"""The X adapter against the strict fake (issue 16, findings 1, 2, 8 and 10): the 7-day
search window, a quiet week, credits running out, the 24-hour posting cap, a read-only
token, and posts X accepted though the bot saw an error."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.clock import JumpClock
from bot.host import RetryPolicy, SessionHost
from bot.platforms.base import PlatformError, PlatformSetupError
from bot.platforms.x.adapter import XCredentials, XPlatform, check_credentials
from bot.platforms.x.ids import snowflake_at
from bot.script import ChatScript
from bot.testing.fake_x import FakeXServer
from tests.platforms.test_x_platform import TOKENS, Collector, make_platform


@pytest.fixture
async def platform(server: FakeXServer, clock: JumpClock) -> XPlatform:
    p = make_platform(server, clock, request_timeout=10)  # the machine may be busy
    await p.start()
    yield p  # type: ignore[misc]
    await p.stop()


def _refused(server: FakeXServer, status: int) -> list[str]:
    return [r.path for r in server.requests if r.status == status]


async def test_a_saved_cursor_older_than_the_window_is_moved_and_the_gap_told(
    platform: XPlatform, server: FakeXServer, clock: JumpClock
) -> None:
    old_chat = server.add_tweet("tweetchat_host", "Q1 last month #NHSSM",
                                created_at=clock.now() - timedelta(days=20))
    last_seen = str(snowflake_at(clock.now() - timedelta(days=9)))
    new = server.add_tweet("ann", "A1 back again #NHSSM")
    result = await platform.backfill({"hashtag": last_seen, f"conv:{old_chat}": old_chat})
    assert [e.message_id for e in result.events] == [new]
    assert f"conv:{old_chat}" not in result.cursor  # retired: import covers older history
    assert _refused(server, 400) == []
    (gap,) = platform.take_gaps()
    assert "hashtag" in gap and "7-day search window" in gap


async def test_a_quiet_week_while_running_is_no_gap_and_no_error(
    platform: XPlatform, server: FakeXServer, clock: JumpClock
) -> None:
    server.add_tweet("ann", "A1 the last word for a while #NHSSM")
    collector = Collector(platform)
    await collector.more_searches(server, 2)
    for _ in range(8):  # a week and a day without a single tweet, polled every day
        clock.offset += 86400
        await collector.more_searches(server, 2)
    late = server.add_tweet("ben", "A1 next week's first answer #NHSSM")
    await collector.until(lambda: late in collector.ids, "the first tweet after a quiet week")
    assert _refused(server, 400) == [] and not collector.task.done()
    assert platform.take_gaps() == []
    await platform.stop()
    await collector.task


async def test_old_conversations_are_not_watched(
    platform: XPlatform, server: FakeXServer, clock: JumpClock
) -> None:
    old = server.add_tweet("tweetchat_host", "Q1 #NHSSM",
                           created_at=clock.now() - timedelta(days=8))
    platform.watch_conversation(old)
    assert f"conv:{old}" not in platform.cursor


async def test_spent_credits_end_the_stream_plainly_and_posting_says_so(
    platform: XPlatform, server: FakeXServer
) -> None:
    collector = Collector(platform)
    await collector.more_searches(server, 1)
    server.ledger.credits = 0.0
    await collector.until(lambda: collector.task.done(), "the stream to end")
    with pytest.raises(PlatformError, match="credits are spent"):
        collector.task.result()
    with pytest.raises(PlatformError, match="credits are spent") as err:
        await platform.post("Q1 Anyone there?")
    assert not err.value.retryable and server.posted == []
    server.ledger.credits = 10.0  # topped up: all works again
    assert (await platform.post("Q1 Anyone there?")).id == server.posted[0]["id"]


async def test_the_24_hour_cap_says_when_it_resets_and_is_not_retried(
    platform: XPlatform, server: FakeXServer
) -> None:
    server.caps.windows["user"].limit = 1
    await platform.post("Welcome")
    with pytest.raises(PlatformError, match="24-hour posting cap is reached; it resets at") as e:
        await platform.post("Q1 One more?")
    assert not e.value.retryable


async def test_a_read_only_token_is_found_at_start_and_by_x_check(
    server: FakeXServer, clock: JumpClock
) -> None:
    server.access_level = "read"
    with pytest.raises(PlatformSetupError, match="read-only"):
        await make_platform(server, clock, request_timeout=10).start()
    assert server.posted == []
    server.access_level = "read-write"
    report = await check_credentials(XCredentials(**TOKENS), base_url=server.base_url)
    assert report.access_level == "read-write"


async def _host_once(archive: Archive, script: ChatScript, platform: XPlatform,
                     clock: JumpClock) -> int:
    sid = archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=clock.now() - timedelta(seconds=1), duration_minutes=5,
        platforms=["x"], items=script.timeline()[:1], host_name="Host")
    archive.update_session(sid, origin=clock.now(), started_at=clock.now(), status="live")
    host = SessionHost(archive, sid, {"x": platform}, clock=clock,
                       retry=RetryPolicy(attempts=3, base_seconds=0.01),
                       repeat_text=script.model.repeat_text)
    await asyncio.wait_for(host.run(), 30)
    return sid


async def test_a_post_accepted_before_a_503_is_recognised_not_posted_twice(
    platform: XPlatform, server: FakeXServer, clock: JumpClock, tmp_path: Path,
    small_script: ChatScript
) -> None:
    archive = Archive(tmp_path / "a.db")
    server.fail_next(503, path="/2/tweets", after=True)
    sid = await _host_once(archive, small_script, platform, clock)
    assert len(server.posted) == 1  # the retry found it instead of posting again
    row = archive.outbox(sid, "welcome")[0]
    assert row["status"] == "sent" and row["platform_id"] == server.posted[0]["id"]
    assert _refused(server, 403) == []


async def test_after_a_crash_the_duplicate_is_reconciled_with_what_is_there(
    platform: XPlatform, server: FakeXServer, clock: JumpClock, tmp_path: Path,
    small_script: ChatScript
) -> None:
    archive = Archive(tmp_path / "a.db")
    sid = archive.create_session(
        chat_id="test", title=small_script.title, hashtag=small_script.hashtag,
        timezone="Europe/London", scheduled_start=clock.now() - timedelta(seconds=1),
        duration_minutes=5, platforms=["x"], items=small_script.timeline()[:1],
        host_name="Host")
    archive.update_session(sid, origin=clock.now(), started_at=clock.now(), status="live")
    host = SessionHost(archive, sid, {"x": platform}, clock=clock,
                       retry=RetryPolicy(attempts=3, base_seconds=0.01),
                       repeat_text=small_script.model.repeat_text)
    # The crash: marked sending, X took the post, the process died before saving the id.
    archive.mark_sending(sid, "welcome", "x")
    text = host._text_for(platform, archive.items(sid)[0])
    await platform.post(text)
    await asyncio.wait_for(host.run(), 30)
    assert len(server.posted) == 1
    assert archive.outbox(sid, "welcome")[0]["platform_id"] == server.posted[0]["id"]
