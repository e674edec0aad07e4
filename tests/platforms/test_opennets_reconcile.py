"""A crash after the send on Bluesky and Mastodon: the restarted bot recognises its own post
by the platform's evidence (the bot's account id: Mastodon's numeric id from
verify_credentials, Bluesky's DID) and never posts it twice, both when the post was already
collected into the archive and when only the platform has it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.archive import Archive
from bot.clock import JumpClock
from bot.host import RetryPolicy, SessionHost
from bot.platforms.base import ChatContext, Platform
from bot.platforms.bluesky.adapter import BlueskyPlatform
from bot.platforms.mastodon.adapter import MastodonPlatform
from bot.script import ChatScript
from bot.testing.fake_bluesky import FakeBlueskyServer
from bot.testing.fake_mastodon import FakeMastodonServer


def _context(script: ChatScript, **settings: object) -> ChatContext:
    return ChatContext(script.id, script.title, script.hashtag,
                       {"streaming": False, **settings})


def _session(archive: Archive, script: ChatScript, clock: JumpClock, platform: str) -> int:
    sid = archive.create_session(
        chat_id=script.id, title=script.title, hashtag=script.hashtag,
        timezone="Europe/London", scheduled_start=clock.now(), duration_minutes=5,
        platforms=[platform], items=script.timeline(), host_name="Host")
    archive.update_session(sid, origin=clock.now(), started_at=clock.now(), status="live")
    return sid


async def _crash_then_restart(archive: Archive, sid: int, name: str, before: Platform,
                              after: Platform, welcome: str, *, collected: bool,
                              clock: JumpClock) -> str:
    """The welcome reaches the platform, the bot dies, a new process hosts the session."""
    archive.mark_sending(sid, "welcome", name)
    sent = await before.post(welcome)
    await before.stop()
    await after.start()
    if collected:  # the collector had stored the bot's own post before the crash
        backfill = await after.backfill({})
        assert sent.id in {e.message_id for e in backfill.events}
        archive.record_events(list(backfill.events), session_id=sid)
    host = SessionHost(archive, sid, {name: after}, clock=clock,
                       retry=RetryPolicy(attempts=2, base_seconds=1))
    await asyncio.wait_for(host.run(), 60)
    await after.stop()
    return sent.id


async def _mastodon_case(tmp_path: Path, script: ChatScript, *, collected: bool) -> None:
    clock = JumpClock()
    async with FakeMastodonServer(clock=clock, max_characters=1000) as server:
        archive = Archive(tmp_path / "a.db")
        sid = _session(archive, script, clock, "mastodon")

        def bot() -> MastodonPlatform:
            return MastodonPlatform(_context(script, content_warning="Health chat"),
                                    api_base_url=server.base_url, access_token=server.token,
                                    clock=clock)

        first, second = bot(), bot()
        await first.start()
        welcome = script.timeline()[0].text
        sent = await _crash_then_restart(archive, sid, "mastodon", first, second, welcome,
                                         collected=collected, clock=clock)
        assert second.account_id == server.me["id"] and second.account_id.isdigit()
        row = archive.outbox(sid, "welcome")[0]
        assert row["status"] == "sent" and row["platform_id"] == sent
        mine = [s["text_source"] for s in server.posted]
        assert sum(welcome in t for t in mine) == 1, mine
        looked = sum(1 for _, p in server.requests if p.endswith(f"/{server.me['id']}/statuses"))
        assert (looked == 0) if collected else (looked > 0)  # the archive's echo was enough
        archive.close()


async def _bluesky_case(tmp_path: Path, script: ChatScript, *, collected: bool) -> None:
    clock = JumpClock()
    async with FakeBlueskyServer(clock=clock) as server:
        archive = Archive(tmp_path / "a.db")
        sid = _session(archive, script, clock, "bluesky")

        def bot() -> BlueskyPlatform:
            return BlueskyPlatform(_context(script, lookback_seconds=3600),
                                   handle=server.me.handle, app_password=server.password,
                                   service=server.base_url, clock=clock)

        first, second = bot(), bot()
        await first.start()
        welcome = script.timeline()[0].text
        sent = await _crash_then_restart(archive, sid, "bluesky", first, second, welcome,
                                         collected=collected, clock=clock)
        assert second.account_id == server.me.did
        row = archive.outbox(sid, "welcome")[0]
        assert row["status"] == "sent" and row["platform_id"] == sent
        texts = [r["value"]["text"] for u, r in server.records.items()
                 if "app.bsky.feed.post" in u and u.startswith(f"at://{server.me.did}/")]
        assert sum(welcome in t for t in texts) == 1, texts
        looked = sum(1 for _, nsid in server.requests if nsid == "app.bsky.feed.getAuthorFeed")
        assert (looked == 0) if collected else (looked > 0)
        archive.close()


async def test_mastodon_post_only_the_instance_has_is_found_from_the_account(
        tmp_path: Path, small_script: ChatScript) -> None:
    await _mastodon_case(tmp_path, small_script, collected=False)


async def test_mastodon_post_already_collected_is_the_bots_by_its_account_id(
        tmp_path: Path, small_script: ChatScript) -> None:
    await _mastodon_case(tmp_path, small_script, collected=True)


async def test_bluesky_post_only_the_pds_has_is_found_in_the_author_feed(
        tmp_path: Path, small_script: ChatScript) -> None:
    await _bluesky_case(tmp_path, small_script, collected=False)


async def test_bluesky_post_already_collected_is_the_bots_by_its_did(
        tmp_path: Path, small_script: ChatScript) -> None:
    await _bluesky_case(tmp_path, small_script, collected=True)
