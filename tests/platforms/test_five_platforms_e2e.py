"""One chat on five platforms at once: the web room (a real socket), Discord (dpytest's
guild), X, Bluesky and Mastodon (their fakes on 127.0.0.1, through tweepy, atproto and
Mastodon.py). A paced rehearsal posts every item once on each; a crowd answers on every
platform; the session ends in one transcript in which each answer sits under its question
and carries the platform it was said on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer
from discord.ext.test import backend as dback

from bot.app import App
from bot.archive import Archive
from bot.platforms.discord import client as shared
from bot.publishing import publish_session
from bot.script import load_script
from bot.testing.fake_bluesky import FakeBlueskyServer
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_mastodon import FakeMastodonServer
from bot.testing.fake_x import FakeXServer
from bot.webapp.server import build_app
from tests.conftest import chat_script, make_settings
from tests.platforms.test_x_e2e import until

PACE = 20.0  # three wall seconds a script minute: five platforms post each item in time
FAST = "    poll_interval: 0.05\n    backoff_base: 0.05\n    request_timeout: 2\n"


def script_text(world: DiscordWorld) -> str:
    settings = (f"platform_settings:\n  discord:\n    guild_id: \"{world.guild.id}\"\n"
                f"    channel_id: \"{world.chat.id}\"\n    moderator_role: Moderator\n"
                f"  x:\n{FAST}  bluesky:\n{FAST}  mastodon:\n{FAST}")
    return chat_script("[web, discord, x, bluesky, mastodon]", settings,
                       title="Five platform chat").replace("{id}", "five")


def answers(doc: dict[str, Any]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {}
    for q in doc["questions"]:
        found: set[tuple[str, str]] = set()
        stack = list(q["answers"])
        while stack:
            entry = stack.pop()
            if not entry["author"]["host"]:
                found.add((entry["platform"], entry["id"]))
            stack.extend(entry["replies"])
        out[q["number"]] = found
    return out


async def test_one_chat_on_five_platforms_ends_in_one_transcript(
        world: DiscordWorld, tmp_path: Path) -> None:
    async with FakeXServer(rate_limits={"search": (100_000, 900.0)}) as xs, \
            FakeBlueskyServer() as bs, FakeMastodonServer() as ms:
        settings = make_settings(
            tmp_path, X_API_KEY="k", X_API_SECRET="s", X_ACCESS_TOKEN="t",
            X_ACCESS_TOKEN_SECRET="ts", X_BEARER_TOKEN="b", TWEETCHAT_X_API_BASE=xs.base_url,
            BLUESKY_HANDLE=bs.me.handle, BLUESKY_APP_PASSWORD=bs.password,
            TWEETCHAT_BLUESKY_SERVICE=bs.base_url, MASTODON_API_BASE_URL=ms.base_url,
            MASTODON_ACCESS_TOKEN=ms.token)
        path = tmp_path / "chats" / "five.yaml"
        path.parent.mkdir()
        path.write_text(script_text(world), encoding="utf-8")
        app = App(settings, scripts=[load_script(path)], with_scheduler=False, with_web=False)
        dback.make_role("Moderator", world.guild)
        shared.lend(world.bot)  # the Discord package borrows dpytest's client
        await app.start()
        web_app, _ = build_app(app)
        client = TestClient(TestServer(web_app, host="127.0.0.1", port=0))
        await client.start_server()
        expected: dict[int, set[tuple[str, str]]] = {1: set(), 2: set(), 3: set()}
        try:
            sid = await app.start_session("five", pace=PACE)
            ws = await client.ws_connect("/chats/five/ws")
            await ws.send_json({"type": "join", "key": "w" * 24, "name": "Wendy"})
            assert (await ws.receive_json(timeout=10))["type"] == "state"

            def item(key: str) -> Any:
                return next(i for i in app.archive.items(sid) if i.key == key)

            for n in (1, 2, 3):
                await until(lambda n=n: len(item(f"q{n}").refs) == 5, f"Q{n} on all five", 60)
                refs = item(f"q{n}").refs
                said = [
                    ("x", xs.add_tweet("xena", f"@tweetchat_host x view {n}",
                                       reply_to=refs["x"])),
                    ("bluesky", bs.add_post("bea", f"bluesky view {n}",
                                            reply_to=refs["bluesky"])),
                    ("mastodon", ms.add_status("max@remote.example", f"mastodon view {n}",
                                               reply_to=refs["mastodon"])),
                    ("mastodon", ms.add_status("mia", f"A{n} tagged toot #TestChat")),
                ]
                question = world.state._get_message(int(refs["discord"]))
                reply = await world.user_message(f"discord view {n}", member=world.ann,
                                                 reply_to=question)
                said.append(("discord", str(reply.id)))
                await ws.send_json({"type": "send", "text": f"A{n} web view", "nonce": str(n)})
                expected[n] |= set(said)
                await until(lambda s=said: all(app.archive.message(p, i) for p, i in s),
                            f"the answers to Q{n} stored", 60)
            await until(lambda: app.host_tasks[sid].done(), "the session ended", 90)
            for m in app.archive.messages(sid):
                if m.platform == "web" and not m.is_host:
                    expected[int(m.text[1])].add(("web", m.id))  # "A2 web view" answers Q2
        finally:
            await client.close()
            await app.stop()
        archive = Archive(settings.archive.path)
        try:
            published = publish_session(archive, sid, Path(settings.archive.transcripts_dir),
                                        formats=("json",), out_dir=tmp_path / "out")
        finally:
            archive.close()
        assert published.files
        doc = orjson.loads((tmp_path / "out" / "transcript.json").read_bytes())
        assert answers(doc) == expected
        assert {p for q in expected.values() for p, _ in q} == {
            "web", "discord", "x", "bluesky", "mastodon"}
        # Every item went out exactly once on each platform.
        assert sum(t["text"].startswith("Q1 ") for t in xs.posted) == 1
        assert sum(r["text"].startswith("Q1 ") for r in bs.posted) == 1
        assert sum(s["text_source"].startswith("Q1 ") for s in ms.posted) == 1

