"""The X adapter as the bot uses it: built from settings, threading questions, watching
the host's conversations, the cursor the collector saves, sharing the transcript."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.clock import JumpClock
from bot.platforms.base import ChatContext
from bot.platforms.x.adapter import XPlatform
from bot.platforms.x.tweet_text import v2_text
from bot.testing.fake_x import FakeXServer
from tests.conftest import make_settings
from tests.platforms.test_x_platform import Collector, make_platform


async def test_from_settings_reads_secrets_base_url_and_script_overrides(
    tmp_path: Path, server: FakeXServer, clock: JumpClock
) -> None:
    settings = make_settings(
        tmp_path, X_API_KEY="k-1234", X_API_SECRET="s-1234", X_ACCESS_TOKEN="t-1234",
        X_ACCESS_TOKEN_SECRET="ts-1234", X_BEARER_TOKEN="b-1234",
        TWEETCHAT_X_API_BASE=server.base_url,
    )
    context = ChatContext("nhssm", "NHS chat", "#NHSSM", {"thread_questions": True,
                                                          "poll_seconds": 3})
    platform = XPlatform.from_settings(context, settings, clock=clock)
    await platform.start()
    try:
        assert platform.handle == "tweetchat_host"
        assert platform._poll_interval == 3.0  # the script's value beats [x] poll_seconds
        assert platform._lookback == settings.x.backfill_window_minutes * 60
        await platform.post("Welcome")
    finally:
        await platform.stop()
    assert server.posted[0]["text"] == "Welcome #NHSSM"
    assert {r.auth for r in server.requests if r.method == "POST"} == {"oauth1"}
    assert "1234" not in repr(platform.x.credentials)


async def test_questions_thread_under_the_welcome_when_asked(
    server: FakeXServer, clock: JumpClock
) -> None:
    threaded = make_platform(server, clock, thread_questions=True)
    await threaded.start()
    welcome = await threaded.post("Welcome")
    q1 = await threaded.post("Q1 First?", new_thread="Q1 First?")
    q2 = await threaded.post("Q2 Second?", new_thread="Q2 Second?")
    assert q1.thread_id == q2.thread_id == welcome.id
    assert server.posted[1]["referenced_tweets"] == [{"type": "replied_to", "id": welcome.id}]
    assert [k for k in threaded.live_cursor() or {} if k.startswith("conv:")] == [
        f"conv:{welcome.id}"
    ]  # one conversation to search, not one per question
    await threaded.stop()

    separate = make_platform(server, clock)
    await separate.start()
    q3 = await separate.post("Q3 Third?", new_thread="Q3 Third?")
    assert q3.thread_id == q3.id and "referenced_tweets" not in server.posted[-1]
    await separate.stop()


async def test_a_restarted_adapter_threads_under_the_same_welcome(
    server: FakeXServer, clock: JumpClock
) -> None:
    first = make_platform(server, clock, thread_questions=True)
    await first.start()
    welcome = await first.post("Welcome")
    cursor = dict(first.live_cursor() or {})
    await first.stop()
    second = make_platform(server, clock, thread_questions=True)
    await second.start()
    await second.backfill(cursor)
    q1 = await second.post("Q1 After the restart?", new_thread="Q1")
    await second.stop()
    assert q1.thread_id == welcome.id


async def test_live_cursor_saves_new_conversations_at_once_and_lags_a_cycle(
    server: FakeXServer, clock: JumpClock
) -> None:
    platform = make_platform(server, clock)
    await platform.start()
    assert platform.live_cursor() is None  # nothing collected, nothing watched yet
    welcome = await platform.post("Welcome")
    assert platform.live_cursor() == {f"conv:{welcome.id}": str(int(welcome.id) - 1)}
    collector = Collector(platform)
    answer = server.add_tweet("alice", "A1 tea #NHSSM")
    await collector.until(lambda: answer in collector.ids, "the answer")
    await collector.more_searches(server, 4)  # a full cycle after the one that found it
    assert (platform.live_cursor() or {}).get("hashtag") == answer
    await platform.stop()
    await collector.task


async def test_reminders_are_not_watched_and_transcripts_are_shared_as_a_link(
    server: FakeXServer, clock: JumpClock
) -> None:
    platform = make_platform(server, clock)
    await platform.start()
    await platform.remind("Chat tonight at 8", datetime(2026, 1, 7, 20, 0))
    assert platform.live_cursor() is None
    await platform.publish_transcript([Path("transcript.html")], None)  # no public URL
    assert len(server.posted) == 1
    welcome = await platform.post("Welcome")
    await platform.publish_transcript([], "https://chats.example.org/archive/4")
    await platform.stop()
    last = server.posted[-1]
    # X stores the link as t.co with the real one in entities, as it does for every post.
    assert v2_text(last) == ("The transcript of NHS social media chat is up: "
                             "https://chats.example.org/archive/4 #NHSSM")
    assert last["entities"]["urls"][0]["url"] in last["text"]
    assert last["referenced_tweets"] == [{"type": "replied_to", "id": welcome.id}]

    quiet = make_platform(server, clock, share_transcript=False)
    await quiet.start()
    await quiet.publish_transcript([], "https://chats.example.org/archive/5")
    await quiet.stop()
    assert server.posted[-1] is last
