"""The X adapter against the fake X API server: real HTTP on 127.0.0.1, nothing mocked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import Clock, JumpClock
from bot.platforms.base import ChatContext, PlatformError, PlatformSetupError
from bot.platforms.x.adapter import XCredentials, XPlatform, check_credentials
from bot.records import Action, Event
from bot.testing.fake_x import FakeXServer

TOKENS = {
    "api_key": "ck-hush-1",
    "api_secret": "cs-hush-2",
    "access_token": "at-hush-3",
    "access_token_secret": "ats-hush-4",
    "bearer_token": "bt-hush-5",
}


def backoff_run(slept: list[float], expected: list[float]) -> bool:
    """Whether the adapter slept exactly `expected`, back to back, at some point."""
    rounded = [round(s, 3) for s in slept]
    n = len(expected)
    return any(rounded[i : i + n] == expected for i in range(len(rounded) - n + 1))


def make_platform(
    server: FakeXServer, clock: Clock, *, hashtag: str = "#NHSSM", **settings: Any
) -> XPlatform:
    ctx = ChatContext(
        chat_id="nhssm",
        title="NHS social media chat",
        hashtag=hashtag,
        settings={
            "poll_interval": 0.05,
            "request_timeout": 0.2,
            "backoff_base": 0.05,
            "page_size": 10,  # small pages, so pagination is exercised
            "backoff_cap": 1.0,
            **settings,
        },
    )
    tokens = {**TOKENS, **settings.pop("tokens", {})} if "tokens" in settings else TOKENS
    return XPlatform(ctx, **tokens, base_url=server.base_url, clock=clock)


@pytest.fixture
async def platform(server: FakeXServer, clock: JumpClock) -> AsyncIterator[XPlatform]:
    p = make_platform(server, clock)
    await p.start()
    yield p
    await p.stop()


class Collector:
    """Runs platform.events() in the background and gathers what it yields."""

    def __init__(self, platform: XPlatform) -> None:
        self.events: list[Event] = []
        self.task = asyncio.create_task(self._run(platform))

    async def _run(self, platform: XPlatform) -> None:
        async for event in platform.events():
            self.events.append(event)

    @property
    def ids(self) -> list[str]:
        return [e.message_id for e in self.events]

    async def until(self, done: Callable[[], bool], what: str) -> None:
        # A generous guard so a broken adapter fails the test instead of hanging it.
        try:
            async with asyncio.timeout(15):
                while not done():
                    if self.task.done():
                        self.task.result()
                        raise AssertionError(f"events() ended before {what}")
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; got {self.ids}") from None

    async def more_searches(self, server: FakeXServer, n: int) -> None:
        target = len(server.searches()) + n
        await self.until(lambda: len(server.searches()) >= target, f"{n} more searches")


# --------------------------------------------------------------------------- posting


async def test_post_appends_hashtag_and_threads_replies(
    platform: XPlatform, server: FakeXServer
) -> None:
    welcome = await platform.post("Welcome to tonight's chat")
    q1 = await platform.post("Q1 What helps you switch off?", reply_to=welcome.id)
    follow = await platform.post("Q1 (follow-up) Anything else?", reply_to=q1.id)
    tagged = await platform.post("Closing thoughts #nhssm", reply_to=welcome.id)

    assert [t["text"] for t in server.posted] == [
        "Welcome to tonight's chat #NHSSM",
        "Q1 What helps you switch off? #NHSSM",
        "Q1 (follow-up) Anything else? #NHSSM",
        "Closing thoughts #nhssm",  # already tagged (any case): not tagged twice
    ]
    assert welcome.platform == "x" and welcome.thread_id == welcome.id
    assert q1.thread_id == follow.thread_id == tagged.thread_id == welcome.id
    assert server.posted[1]["referenced_tweets"] == [{"type": "replied_to", "id": welcome.id}]
    assert server.posted[2]["conversation_id"] == welcome.id
    assert welcome.url == f"https://x.com/tweetchat_host/status/{welcome.id}"
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 4 and {r.auth for r in posts} == {"oauth1"}
    assert {r.auth for r in server.searches()} == {"bearer"}


async def test_duplicate_is_refused_and_not_retried(
    platform: XPlatform, server: FakeXServer
) -> None:
    await platform.post("Q2 Same words")
    with pytest.raises(PlatformError) as caught:
        await platform.post("Q2 Same words")
    assert caught.value.retryable is False
    assert "duplicate" in str(caught.value)
    assert len([r for r in server.requests if r.method == "POST"]) == 2


async def test_over_length_is_refused_before_sending(
    platform: XPlatform, server: FakeXServer
) -> None:
    with pytest.raises(PlatformError) as caught:
        await platform.post("日" * 140)  # 280 weighted, then " #NHSSM" pushes it over
    assert caught.value.retryable is False
    assert "287 weighted characters" in str(caught.value)
    assert [r for r in server.requests if r.method == "POST"] == []


@pytest.mark.parametrize("failure", ["500", "503", "timeout"])
async def test_server_errors_and_timeouts_on_post_are_retryable(
    platform: XPlatform, server: FakeXServer, failure: str
) -> None:
    if failure == "timeout":
        server.slow_next(0.6, path="/2/tweets")
    else:
        server.fail_next(int(failure), path="/2/tweets")
    with pytest.raises(PlatformError) as caught:
        await platform.post("Q3 Still there?")
    assert caught.value.retryable is True
    # The host's outbox retries; a second attempt goes through (the fake dropped nothing).
    if failure != "timeout":
        ref = await platform.post("Q3 Still there?")
        assert ref.id == server.posted[-1]["id"]


# --------------------------------------------------------------------------- collecting


async def test_crowd_collected_exactly_once(
    platform: XPlatform, server: FakeXServer, clock: JumpClock
) -> None:
    last_week = server.add_tweet(
        "old_timer", "A1 from last week #NHSSM", created_at=clock.now() - timedelta(days=6)
    )
    welcome = await platform.post("Welcome!")
    collector = Collector(platform)

    alice = server.add_tweet("alice", "A1 A walk after a shift #NHSSM")
    bob = server.add_tweet("bob", "@tweetchat_host hello from the sofa", reply_to=welcome.id)
    carol = server.add_tweet("carol", "Love this answer #NHSSM", quote_of=alice)
    retweet = server.add_tweet("dave", "", retweet_of=alice)
    erin = server.add_tweet("erin", "@bob me too", reply_to=bob)  # deep reply, no hashtag
    server.add_tweet("frank", "unrelated #OtherChat")
    server.like(alice, 3)
    await collector.more_searches(server, 2)
    # More arrive while polling continues, enough to need several pages.
    late = [server.add_tweet(f"late{i}", f"A2 point {i} #nhssm") for i in range(23)]
    expected = {welcome.id, alice, bob, carol, erin, *late}
    await collector.until(lambda: expected <= set(collector.ids), "the whole crowd")
    await collector.more_searches(server, 6)  # keep polling: nothing may come twice
    await platform.stop()
    await collector.task

    assert len(collector.ids) == len(set(collector.ids))
    assert set(collector.ids) == expected  # no retweet, no other chat, nothing from last week
    assert retweet not in collector.ids and last_week not in collector.ids
    by_id = {e.message_id: e.message for e in collector.events}
    assert by_id[welcome.id] is not None and by_id[welcome.id].author.is_bot
    a, b, c, e = (by_id[i] for i in (alice, bob, carol, erin))
    assert a is not None and b is not None and c is not None and e is not None
    assert a.author.handle == "alice" and not a.author.is_bot and a.reactions >= 0
    assert b.reply_to == welcome.id and b.thread_id == welcome.id and b.kind == "message"
    assert e.reply_to == bob and e.thread_id == welcome.id
    assert c.kind == "quote" and c.thread_id == carol
    assert a.created.tzinfo is not None
    assert a.url == f"https://x.com/alice/status/{alice}"
    assert c.raw["data"]["id"] == carol
    assert {u["username"] for u in c.raw["includes"]["users"]} == {"carol", "alice"}
    assert [t["id"] for t in c.raw["includes"]["tweets"]] == [alice]
    assert "result_count" in c.raw["page_meta"]
    assert any(
        r.query.get("query") == f"conversation_id:{welcome.id} -is:retweet"
        for r in server.searches()
    )
    assert any("next_token" in r.query for r in server.searches())  # paginated
    cursor = platform.cursor
    assert cursor["hashtag"] == max(late, key=int)
    assert cursor[f"conv:{welcome.id}"] == erin


async def test_likes_become_reactions(platform: XPlatform, server: FakeXServer) -> None:
    liked = server.add_tweet("alice", "A1 popular #NHSSM", likes=7)
    found = await platform.backfill({})
    assert [(e.message_id, e.message.reactions if e.message else None) for e in found.events] == [
        (liked, 7)
    ]


async def test_follower_counts_come_with_the_author(platform: XPlatform,
                                                    server: FakeXServer) -> None:
    """Asked for as user.fields=public_metrics; read from includes.users (issue 14)."""
    known = server.add_tweet("alice", "A1 followed #NHSSM")
    new = server.add_tweet("bob", "A1 brand new account #NHSSM")
    next(u for u in server.users.values() if u.username == "alice").followers = 412
    found = {e.message_id: e.message for e in (await platform.backfill({})).events}
    alice, bob = found[known], found[new]
    assert alice is not None and alice.author.followers == 412
    assert bob is not None and bob.author.followers == 0  # X's own count: zero is known
    assert any("public_metrics" in r.query.get("user.fields", "") for r in server.searches())


async def test_429_waits_for_reset_and_keeps_cursor(
    platform: XPlatform, server: FakeXServer, clock: JumpClock
) -> None:
    collector = Collector(platform)
    first = server.add_tweet("alice", "A1 before the limit #NHSSM")
    await collector.until(lambda: first in collector.ids, "the first answer")
    server.fail_next(429, path="/2/tweets/search", reset_in=300)
    during = [server.add_tweet(f"u{i}", f"A1 during the limit {i} #NHSSM") for i in range(3)]
    await collector.until(lambda: set(during) <= set(collector.ids), "answers after the reset")
    await platform.stop()
    await collector.task

    assert collector.ids.count(first) == 1 and len(collector.ids) == len(set(collector.ids))
    assert max(clock.slept) >= 299  # waited for the reset, not the poll interval
    searches = server.searches()
    limited = next(i for i, r in enumerate(searches) if r.status == 429)
    retry = searches[limited + 1]
    assert retry.query.get("since_id") == searches[limited].query.get("since_id") == first
    assert retry.query["query"] == searches[limited].query["query"]


async def test_server_errors_and_timeouts_back_off_and_lose_nothing(
    platform: XPlatform, server: FakeXServer, clock: JumpClock
) -> None:
    collector = Collector(platform)
    await collector.more_searches(server, 1)
    clock.slept.clear()
    server.fail_next(500, count=3, path="/2/tweets/search")
    server.slow_next(0.6, path="/2/tweets/search")  # longer than the 0.2 s request timeout
    answers = [server.add_tweet(f"u{i}", f"A1 through the outage {i} #NHSSM") for i in range(4)]
    await collector.until(lambda: set(answers) <= set(collector.ids), "answers after the outage")
    await platform.stop()
    await collector.task

    assert sorted(collector.ids, key=int) == sorted(answers, key=int)
    # Three 500s then a timeout: the waits double from the 0.05 s base.
    assert backoff_run(clock.slept, [0.05, 0.1, 0.2, 0.4])
    statuses = [r.status for r in server.searches()]
    assert statuses.count(500) == 3


async def test_backoff_is_capped(server: FakeXServer, clock: JumpClock) -> None:
    p = make_platform(server, clock, backoff_cap=0.3)
    await p.start()
    collector = Collector(p)
    server.fail_next(503, count=8, path="/2/tweets/search")
    answer = server.add_tweet("alice", "A1 eventually #NHSSM")
    await collector.until(lambda: answer in collector.ids, "the answer")
    await p.stop()
    await collector.task
    assert backoff_run(clock.slept, [0.05, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3])


async def test_poll_interval_stretches_to_fit_the_rate_limit(clock: JumpClock) -> None:
    async with FakeXServer(clock=clock, rate_limits={"search": (12, 900.0)}) as server:
        p = make_platform(server, clock)
        await p.start()
        await p.post("Welcome!")  # two queries per cycle: hashtag + conversation
        collector = Collector(p)
        await collector.more_searches(server, 8)
        await p.stop()
        await collector.task
        assert [r.status for r in server.searches()].count(429) == 0
        # 12 per 900 s, 2 per cycle: the adapter waits far longer than its 0.05 s setting.
        assert max(clock.slept) > 100


async def test_backfill_after_a_gap_resumes_from_cursor(
    server: FakeXServer, clock: JumpClock
) -> None:
    first = make_platform(server, clock, page_size=10)
    await first.start()
    welcome = await first.post("Welcome!")
    early = server.add_tweet("alice", "A1 early #NHSSM")
    got = await first.backfill({})
    assert {e.message_id for e in got.events} == {welcome.id, early}
    cursor = dict(got.cursor)
    assert set(cursor) == {"hashtag", f"conv:{welcome.id}"}
    await first.stop()

    # The bot is down; the chat goes on.
    gap = [server.add_tweet(f"u{i}", f"A2 during the gap {i} #NHSSM") for i in range(15)]
    quiet = [server.add_tweet(f"q{i}", "no tag, replying", reply_to=welcome.id) for i in range(12)]

    second = make_platform(server, clock, page_size=10)
    await second.start()
    resumed = await second.backfill(cursor)
    await second.stop()

    ids = [e.message_id for e in resumed.events]
    assert ids == sorted(gap + quiet, key=int)  # each once, oldest first, nothing from before
    assert resumed.cursor["hashtag"] == gap[-1]
    assert resumed.cursor[f"conv:{welcome.id}"] == quiet[-1]
    used = [r.query for r in server.searches() if "next_token" in r.query]
    assert used  # more than one page was needed


async def test_hide_and_restore_a_reply(platform: XPlatform, server: FakeXServer) -> None:
    welcome = await platform.post("Welcome!")
    rude = server.add_tweet("troll", "names a patient", reply_to=welcome.id)
    elsewhere = server.add_tweet("alice", "A1 my own thread #NHSSM")

    hidden = await platform.act(Action("hide", message_id=rude, reason="confidentiality"))
    assert hidden.done and rude in server.hidden
    restored = await platform.act(Action("restore", message_id=rude))
    assert restored.done and rude not in server.hidden
    refused = await platform.act(Action("hide", message_id=elsewhere))
    assert not refused.done and "conversations you authored" in refused.detail
    other = await platform.act(Action("timeout", author_id="123", minutes=10))
    assert other.done is False and other.detail == "X cannot timeout; flagged only"
    hides = [r for r in server.requests if r.path.endswith("/hidden")]
    assert {r.auth for r in hides} == {"oauth1"}


# --------------------------------------------------------------------------- set-up


async def test_missing_token_is_one_plain_setup_error(
    server: FakeXServer, clock: JumpClock
) -> None:
    p = make_platform(server, clock, tokens={"bearer_token": "", "access_token": None})
    with pytest.raises(PlatformSetupError) as caught:
        await p.start()
    message = str(caught.value)
    assert "X_ACCESS_TOKEN, X_BEARER_TOKEN not set" in message and "\n" not in message
    assert server.requests == []


@pytest.mark.parametrize(
    ("bad", "names"), [("at-hush-3", "X_ACCESS_TOKEN"), ("bt-hush-5", "X_BEARER_TOKEN")]
)
async def test_rejected_token_is_one_plain_setup_error(
    server: FakeXServer, clock: JumpClock, bad: str, names: str
) -> None:
    server.invalid_tokens = {bad}
    p = make_platform(server, clock)
    with pytest.raises(PlatformSetupError) as caught:
        await p.start()
    message = str(caught.value)
    assert names in message and "401" in message and "\n" not in message
    assert "hush" not in message


@pytest.mark.parametrize("style", ["453", "client-not-enrolled"])
async def test_tier_without_search_warns_once_and_still_posts(
    server: FakeXServer, clock: JumpClock, caplog: pytest.LogCaptureFixture, style: Any
) -> None:
    server.search_forbidden = True
    server.search_forbidden_style = style
    p = make_platform(server, clock)
    with caplog.at_level(logging.WARNING, logger="bot.platforms.x.adapter"):
        await p.start()
        assert p.can_search is False
        collector = Collector(p)
        ref = await p.post("Q1 Anyone there?")
        assert server.posted[-1]["id"] == ref.id
        assert (await p.backfill({})).events == ()
        await asyncio.sleep(0.05)
        await p.stop()
        await collector.task
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot search" in warnings[0] and "tweetchat import x" in warnings[0]
    assert len(server.searches()) == 1  # the start-up probe only
    assert collector.events == []


async def test_check_credentials_reports_account_and_search(
    server: FakeXServer, clock: JumpClock
) -> None:
    creds = XCredentials(**TOKENS)
    report = await check_credentials(creds, hashtag="#NHSSM", base_url=server.base_url, clock=clock)
    assert (report.handle, report.can_search) == ("tweetchat_host", True)
    assert report.user_id == server.me.id
    server.search_forbidden = True
    report = await check_credentials(creds, base_url=server.base_url, clock=clock)
    assert report.can_search is False and "453" not in report.handle
    assert "hush" not in repr(creds)
    with pytest.raises(PlatformSetupError):
        await check_credentials(XCredentials(), base_url=server.base_url, clock=clock)


async def test_secrets_never_reach_the_log(
    platform: XPlatform, server: FakeXServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await platform.post("Q1 logging check")
        server.add_tweet("alice", "A1 #NHSSM")
        await platform.backfill({})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Making API request" in text  # tweepy's debug lines were captured...
    assert "hush" not in text  # ...with every token blanked out
