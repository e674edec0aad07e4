"""Crash and error reconciliation in the host (issue 16, finding 2): a post that reached
the platform is recognised by the platform's own evidence (the bot's account and the text
as sent, or the platform's record of it) and never posted twice; one that did not is
posted once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.clock import FakeClock
from bot.host import RetryPolicy, SessionHost
from bot.platforms.base import ChatContext, DuplicatePost, PlatformError
from bot.platforms.memory import MemoryPlatform
from bot.records import Author, Event, Message, PostRef
from bot.script import ChatScript


class AcceptedThenFailed(MemoryPlatform):
    """Takes the post, then the answer is lost: a timeout, a 5xx or a duplicate refusal."""

    def __init__(self, clock: FakeClock, error: PlatformError, times: int = 1) -> None:
        super().__init__(ChatContext("test", "Test chat", "#TestChat", {}), clock=clock)
        self.error = error
        self.times = times

    async def post(self, text: str, *, reply_to: str | None = None,
                   new_thread: str | None = None) -> PostRef:
        ref = await super().post(text, reply_to=reply_to, new_thread=new_thread)
        if self.times > 0:
            self.times -= 1
            raise self.error
        return ref


class TaggedAccount(MemoryPlatform):
    """A platform that adds the hashtag and posts from its own account id (like X)."""

    @property
    def account_id(self) -> str | None:
        return "bot-4242"

    def as_sent(self, text: str) -> str:
        return f"{text} #TestChat"


@dataclass
class Scene:
    """A live session of the small script in a real archive, on a FakeClock."""

    clock: FakeClock
    archive: Archive
    sid: int
    welcome: str

    async def host(self, platform: MemoryPlatform) -> None:
        """Run the session's host over `platform` until every item is done."""
        host = SessionHost(self.archive, self.sid, {"memory": platform}, clock=self.clock,
                           retry=RetryPolicy(attempts=3, base_seconds=1))
        task = asyncio.create_task(host.run())
        await self.clock.run_for(400, step=5)
        await asyncio.wait_for(task, 5)


@pytest.fixture
def scene(tmp_path: Path, small_script: ChatScript) -> Scene:
    clock = FakeClock()
    archive = Archive(tmp_path / "a.db")
    sid = archive.create_session(
        chat_id="test", title=small_script.title, hashtag=small_script.hashtag,
        timezone="Europe/London", scheduled_start=clock.now(), duration_minutes=5,
        platforms=["memory"], items=small_script.timeline(), host_name="Host")
    archive.update_session(sid, origin=clock.now(), started_at=clock.now(), status="live")
    return Scene(clock, archive, sid, small_script.timeline()[0].text)


async def test_a_post_the_platform_has_is_not_sent_again_after_a_crash(scene: Scene) -> None:
    platform = MemoryPlatform(ChatContext("test", "Test chat", "#TestChat", {}),
                              clock=scene.clock)
    # The crash: 'sending' was written, the platform took the post, nothing else was saved.
    scene.archive.mark_sending(scene.sid, "welcome", "memory")
    posted = await platform.post(scene.welcome)
    await scene.host(platform)
    assert [p.text for p in platform.posts].count(scene.welcome) == 1
    row = scene.archive.outbox(scene.sid, "welcome")[0]
    assert row["status"] == "sent" and row["platform_id"] == posted.id
    assert any(e["kind"] == "reconciled" for e in scene.archive.session_log(scene.sid))


async def test_the_echo_from_the_bots_account_with_the_text_as_sent_is_recognised(
    scene: Scene,
) -> None:
    platform = TaggedAccount(ChatContext("test", "Test chat", "#TestChat", {}),
                             clock=scene.clock)
    scene.archive.mark_sending(scene.sid, "welcome", "memory")
    # Collected live before the crash: by the bot's account, with the hashtag X added.
    now = scene.clock.now()
    echo = Message("memory", "777", Author("memory", "bot-4242", "Tweetchat", is_bot=True),
                   f"{scene.welcome} #TestChat", now)
    scene.archive.record_events([Event("created", "memory", "777", now, echo)],
                                session_id=scene.sid)
    await scene.host(platform)
    assert scene.welcome not in [p.text for p in platform.posts]
    assert scene.archive.outbox(scene.sid, "welcome")[0]["platform_id"] == "777"


async def test_a_timeout_after_acceptance_is_not_posted_twice(
    scene: Scene, small_script: ChatScript
) -> None:
    platform = AcceptedThenFailed(scene.clock, PlatformError("no answer from X (TimeoutError)"))
    await scene.host(platform)
    assert [p.text for p in platform.posts].count(scene.welcome) == 1
    assert scene.archive.outbox(scene.sid, "welcome")[0]["status"] == "sent"
    assert len(platform.posts) == len(small_script.timeline())


async def test_a_duplicate_refusal_of_our_own_post_is_reconciled_not_failed(scene: Scene) -> None:
    platform = AcceptedThenFailed(scene.clock, DuplicatePost("X refused the post as a duplicate"))
    await scene.host(platform)
    items = {i.key: i.status for i in scene.archive.items(scene.sid)}
    assert set(items.values()) == {"sent"}, items
    assert scene.archive.outbox(scene.sid, "welcome")[0]["platform_id"] == platform.posts[0].id
