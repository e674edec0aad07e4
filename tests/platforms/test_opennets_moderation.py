"""What the bot can and cannot moderate on Bluesky and Mastodon, against the fakes through
the real SDKs: threadgate hiding (and its 300 limit), reports, deleting only its own posts,
mute as a timeout and block; setup errors as one plain line."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import JumpClock
from bot.platforms.base import ChatContext, PlatformError, PlatformSetupError
from bot.platforms.bluesky.adapter import BlueskyPlatform
from bot.platforms.mastodon.adapter import MastodonPlatform
from bot.records import Action
from bot.testing.fake_bluesky import FakeBlueskyServer
from bot.testing.fake_mastodon import FakeMastodonServer


def context(**settings: object) -> ChatContext:
    return ChatContext("c", "Chat", "#NHSSM", dict(settings))


async def test_bluesky_hides_replies_through_the_roots_threadgate() -> None:
    async with FakeBlueskyServer() as server:
        bot = BlueskyPlatform(context(), handle=server.me.handle,
                              app_password=server.password, service=server.base_url)
        await bot.start()
        try:
            q = await bot.post("Q1 What helps?", new_thread="Q1")
            reply = server.add_post("ann", "rude words", reply_to=q.id)
            other = server.add_post("bob", "my own thread")
            under_other = server.add_post("cat", "reply elsewhere", reply_to=other)
            assert (await bot.act(Action("hide", message_id=reply))).done
            gate = server.threadgate(q.id)
            assert gate is not None and gate["hiddenReplies"] == [reply]
            assert gate["post"] == q.id and "allow" not in gate  # everyone may still reply
            assert (await bot.act(Action("restore", message_id=reply))).done
            assert server.threadgate(q.id)["hiddenReplies"] == []  # type: ignore[index]
            refused = await bot.act(Action("hide", message_id=under_other))
            assert not refused.done and "not started by the bot" in refused.detail
            assert not (await bot.act(Action("delete", message_id=other))).done
            assert (await bot.act(Action("report", message_id=other, reason="spam"))).done
            assert server.reports[-1]["subject"]["uri"] == other
            assert not (await bot.act(Action("timeout", message_id=other, minutes=5))).done
            assert (await bot.act(Action("delete", message_id=q.id))).done
            assert q.id in server.deleted
        finally:
            await bot.stop()


async def test_bluesky_threadgate_holds_at_most_300_hidden_replies() -> None:
    async with FakeBlueskyServer() as server:
        bot = BlueskyPlatform(context(), handle=server.me.handle,
                              app_password=server.password, service=server.base_url)
        await bot.start()
        try:
            q = await bot.post("Q1 Busy thread?", new_thread="Q1")
            replies = [server.add_post(f"p{i}", f"reply {i}", reply_to=q.id) for i in range(301)]
            gate = {"$type": "app.bsky.feed.threadgate", "post": q.id,
                    "createdAt": "2026-11-25T20:00:00.000Z", "hiddenReplies": replies[:300]}
            await bot.client.put_threadgate(q.id, gate)
            result = await bot.act(Action("hide", message_id=replies[300]))
            assert not result.done and "300" in result.detail
        finally:
            await bot.stop()


async def test_bluesky_bad_password_is_one_plain_line() -> None:
    async with FakeBlueskyServer() as server:
        bot = BlueskyPlatform(context(), handle=server.me.handle, app_password="wrong",
                              service=server.base_url)
        with pytest.raises(PlatformSetupError, match="BLUESKY_APP_PASSWORD"):
            await bot.start()
        missing = BlueskyPlatform(context(), service=server.base_url)
        with pytest.raises(PlatformSetupError, match="BLUESKY_HANDLE, BLUESKY_APP_PASSWORD"):
            await missing.start()


async def test_mastodon_moderates_from_the_bots_own_account() -> None:
    async with FakeMastodonServer(max_characters=80) as server:
        bot = MastodonPlatform(context(), api_base_url=server.base_url,
                               access_token=server.token)
        await bot.start()
        try:
            q = await bot.post("Q1 Short?", new_thread="Q1")
            reply = server.add_status("ann@remote.example", "rude", reply_to=q.id)
            await bot.backfill({})
            hide = await bot.act(Action("hide", message_id=reply))
            assert not hide.done and "hide" in hide.detail
            assert not (await bot.act(Action("delete", message_id=reply))).done
            assert (await bot.act(Action("report", message_id=reply, reason="abuse"))).done
            ann = server.accounts["ann@remote.example"]["id"]
            assert server.reports[-1]["status_ids"] == [reply]
            assert server.reports[-1]["target_account"]["id"] == ann
            assert (await bot.act(Action("timeout", message_id=reply, minutes=15))).done
            assert server.muted == {ann: 900}
            signpost = await bot.act(Action("signpost", message_id=reply, author_id=ann,
                                            text="You can call Samaritans on 116 123."))
            assert signpost.done
            private = server.posted[-1]
            assert private["visibility"] == "direct" and private["in_reply_to_id"] is None
            assert private["text_source"] == ("@ann@remote.example You can call Samaritans "
                                              "on 116 123.")
            assert (await bot.act(Action("block", author_id=ann))).done
            assert server.blocked == {ann}
            assert (await bot.act(Action("delete", message_id=q.id))).done
            assert q.id not in server.statuses
            with pytest.raises(PlatformError, match="allows 80"):
                await bot.post("x" * 75)  # 75 + " #NHSSM" is over this instance's 80
        finally:
            await bot.stop()


async def test_mastodon_rejected_token_is_one_plain_line() -> None:
    async with FakeMastodonServer() as server:
        bot = MastodonPlatform(context(), api_base_url=server.base_url, access_token="nope")
        with pytest.raises(PlatformSetupError, match="access token"):
            await bot.start()
        with pytest.raises(PlatformSetupError, match="MASTODON_API_BASE_URL"):
            await MastodonPlatform(context(), access_token="x").start()


async def test_mastodon_polling_stretches_to_fit_the_rate_limit_window() -> None:
    clock = JumpClock()
    async with FakeMastodonServer(clock=clock) as server:
        server.rate_remaining, server.rate_window = 2, 300.0
        bot = MastodonPlatform(context(poll_interval=0.05, streaming=False),
                               api_base_url=server.base_url,
                               access_token=server.token, clock=clock)
        await bot.start()
        await bot.post("Welcome")
        async def consume() -> None:
            async for _ in bot.events():
                pass

        task = asyncio.create_task(consume())
        try:
            async with asyncio.timeout(30):
                while not clock.slept:
                    await asyncio.sleep(0.01)
        finally:
            await bot.stop()
            await task  # stop() ends the stream
        # Three requests a cycle (the tag, its newest page, the thread), two left in a
        # 300 s window: wait it out, don't hammer.
        assert max(clock.slept) >= 250
