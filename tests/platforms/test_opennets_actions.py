"""Moderation actions on Bluesky and Mastodon reachable three ways: the adapter's act(), the
policy (a check's `platform_actions` in moderation.toml) and the moderator console's
buttons. Each is checked against the fakes by the exact request it makes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.archive import Archive
from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import PolicyError, parse_policy
from bot.platforms.base import ChatContext
from bot.platforms.bluesky.adapter import BlueskyPlatform
from bot.platforms.mastodon.adapter import MastodonPlatform
from bot.records import Action
from bot.script import load_script
from bot.testing.fake_bluesky import FakeBlueskyServer
from bot.testing.fake_mastodon import FakeMastodonServer
from bot.webapp.server import build_app
from tests.conftest import make_settings, write_script
from tests.platforms.test_mastodon_e2e import SCRIPT
from tests.platforms.test_x_e2e import until
from tests.web.conftest import TOKEN, sign_in

NOW = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
POLICY = '[checks.email]\nplatform_actions = ["report", "block", "report"]\n'


def last(server: FakeMastodonServer) -> tuple[str, str]:
    """The instance's last request (Mastodon.py adds a trailing slash Rails ignores)."""
    method, path = server.requests[-1]
    return method, path.rstrip("/")


@asynccontextmanager
async def on_mastodon() -> AsyncIterator[tuple[FakeMastodonServer, MastodonPlatform]]:
    """A started adapter on a fake instance (polling: these tests read no stream)."""
    async with FakeMastodonServer() as server:
        bot = MastodonPlatform(ChatContext("c", "Chat", "#NHSSM", {"streaming": False}),
                               api_base_url=server.base_url, access_token=server.token)
        await bot.start()
        try:
            yield server, bot
        finally:
            await bot.stop()


@asynccontextmanager
async def on_bluesky() -> AsyncIterator[tuple[FakeBlueskyServer, BlueskyPlatform]]:
    """A started adapter on a fake PDS, looking back an hour."""
    async with FakeBlueskyServer() as server:
        bot = BlueskyPlatform(ChatContext("c", "Chat", "#NHSSM", {"lookback_seconds": 3600}),
                              handle=server.me.handle, app_password=server.password,
                              service=server.base_url)
        await bot.start()
        try:
            yield server, bot
        finally:
            await bot.stop()


async def test_mastodon_actions_make_the_instances_requests() -> None:
    async with on_mastodon() as (server, bot):
        mine = await bot.post("Q1 What helps?", new_thread="Q1")
        sid = server.add_status("ann", "rude words", reply_to=mine.id)
        ann = server.account("ann")["id"]
        assert (await bot.act(Action("report", message_id=sid, reason="abuse"))).done
        assert last(server) == ("POST", "/api/v1/reports")
        report = server.reports[-1]
        assert (report["target_account"]["id"], report["status_ids"], report["comment"],
                report["category"], report["forwarded"]) == (ann, [sid], "abuse",
                                                             "other", False)
        assert (await bot.act(Action("timeout", message_id=sid, minutes=5))).done
        assert last(server) == ("POST", f"/api/v1/accounts/{ann}/mute")
        assert server.muted == {ann: 300}
        assert (await bot.act(Action("mute", author_id=ann, message_id=sid))).done
        assert server.muted == {ann: None}
        assert (await bot.act(Action("block", message_id=sid))).done
        assert last(server) == ("POST", f"/api/v1/accounts/{ann}/block")
        assert server.blocked == {ann}
        before = len(server.requests)
        refused = await bot.act(Action("delete", message_id=sid))
        assert not refused.done and "report" in refused.detail
        assert all(m != "DELETE" for m, _ in server.requests[before:])
        assert (await bot.act(Action("delete", message_id=mine.id))).done
        assert last(server) == ("DELETE", f"/api/v1/statuses/{mine.id}")
        hide = await bot.act(Action("hide", message_id=sid))
        assert not hide.done and "hide" in hide.detail


async def test_bluesky_actions_make_the_services_requests() -> None:
    async with on_bluesky() as (server, bot):
        q = await bot.post("Q1 What helps?", new_thread="Q1")
        reply = server.add_post("ann", "rude words", reply_to=q.id)
        ann = reply.removeprefix("at://").split("/")[0]
        assert (await bot.act(Action("report", message_id=reply, reason="abuse"))).done
        assert server.requests[-1] == ("POST", "com.atproto.moderation.createReport")
        subject = server.reports[-1]["subject"]
        assert subject["uri"] == reply and subject["cid"]
        assert server.reports[-1]["reason"] == "abuse"
        assert (await bot.act(Action("mute", message_id=reply))).done
        assert server.requests[-1] == ("POST", "app.bsky.graph.muteActor")
        assert server.muted == [ann]
        assert (await bot.act(Action("block", author_id=ann, message_id=reply))).done
        assert server.requests[-1] == ("POST", "com.atproto.repo.createRecord")
        assert server.blocks() == [ann]
        assert (await bot.act(Action("hide", message_id=reply))).done
        assert server.requests[-1] == ("POST", "com.atproto.repo.putRecord")
        assert server.threadgate(q.id)["hiddenReplies"] == [reply]  # type: ignore[index]
        assert (await bot.act(Action("delete", message_id=q.id))).done
        assert server.requests[-1] == ("POST", "com.atproto.repo.deleteRecord")
        own = await bot.act(Action("block", message_id=q.id))
        assert not own.done  # never its own account
        timeout = await bot.act(Action("timeout", message_id=reply, minutes=5))
        assert not timeout.done and "cannot timeout" in timeout.detail


def test_platform_actions_are_checked_where_the_policy_is_read() -> None:
    policy = parse_policy(POLICY, "m.toml")
    assert policy.checks["email"].platform_actions == ("report", "block")
    assert policy.checks["phone"].platform_actions == ()
    with pytest.raises(PolicyError) as bad:
        parse_policy('[checks.abuse]\nplatform_actions = ["ban"]\n', "m.toml")
    assert str(bad.value).startswith("m.toml:2: checks.abuse.platform_actions must be a list")


async def test_the_policy_reports_and_blocks_on_mastodon_once(tmp_path: Path) -> None:
    async with on_mastodon() as (server, bot):
        archive = Archive(tmp_path / "a.db")
        try:
            sid = server.add_status("ann", "A1 mail me at ann@example.org #NHSSM")
            events = list((await bot.backfill({})).events)
            archive.record_events(events, session_id=None)
            engine = ModerationEngine(parse_policy(POLICY, "m.toml"))
            await engine.screen(archive, bot, events, None, NOW)
            ann = server.account("ann")["id"]
            assert [r["status_ids"] for r in server.reports] == [[sid]]
            assert server.blocked == {ann}
            await engine.screen(archive, bot, events, None, NOW)  # a replay asks nothing more
            assert len(server.reports) == 1
        finally:
            archive.close()


async def test_the_policy_mutes_on_bluesky(tmp_path: Path) -> None:
    async with on_bluesky() as (server, bot):
        archive = Archive(tmp_path / "a.db")
        try:
            uri = server.add_post("ann", "A1 mail me at ann@example.org #NHSSM", tags=("NHSSM",))
            events = list((await bot.backfill({})).events)
            archive.record_events(events, session_id=None)
            policy = parse_policy('[checks.email]\nplatform_actions = ["mute", "report"]\n')
            assert [e.message_id for e in events] == [uri]
            await ModerationEngine(policy).screen(archive, bot, events, None, NOW)
            assert server.muted == [uri.removeprefix("at://").split("/")[0]]
            assert [r["subject"]["uri"] for r in server.reports] == [uri]
        finally:
            archive.close()


async def test_the_console_reports_mutes_and_blocks_on_mastodon(tmp_path: Path) -> None:
    async with FakeMastodonServer() as server:
        script = load_script(write_script(tmp_path / "chats", SCRIPT, name="m.yaml",
                                          chat_id="mchat"))
        settings = make_settings(tmp_path, MASTODON_API_BASE_URL=server.base_url,
                                 MASTODON_ACCESS_TOKEN=server.token, MODERATOR_TOKEN=TOKEN)
        app = App(settings, scripts=[script], platform_override=["mastodon"],
                  with_scheduler=False, with_web=False)
        await app.start()
        client = TestClient(TestServer(build_app(app)[0], host="127.0.0.1", port=0))
        await client.start_server()
        try:
            session = await app.start_session("mchat", pace=60)
            sid = server.add_status("ann", "A1 rude words #TestChat")
            await until(lambda: (m := app.archive.message("mastodon", sid)) is not None
                        and m.session_id == session, "the status collected")
            ann = server.account("ann")["id"]
            csrf = await sign_in(client)
            page = await (await client.get(f"/moderate?session={session}")).text()
            assert 'name="verb" value="report"' in page and 'value="block"' in page
            for verb in ("report", "mute", "block"):
                r = await client.post("/moderate/act", data={
                    "platform": "mastodon", "id": sid, "verb": verb, "csrf": csrf})
                assert r.status == 200 and f"{verb} on mastodon" in await r.text()
            assert [x["status_ids"] for x in server.reports] == [[sid]]
            assert server.muted == {ann: None} and server.blocked == {ann}
            r = await client.post("/moderate/act", data={
                "platform": "mastodon", "id": sid, "verb": "ban", "csrf": csrf})
            assert "unknown action" in await r.text()
            audit = app.archive.db.execute(
                "select action from audit_log where target = ?", [f"mastodon:{sid}"]).fetchall()
            assert [a[0] for a in audit] == ["message.report", "message.mute", "message.block"]
        finally:
            await client.close()
            await app.stop()
