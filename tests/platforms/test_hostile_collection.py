"""One participant's hostile post must never stop the collection of everyone else's.

The real App collects from the fake Bluesky service through the real atproto SDK while
Mallory posts a record whose createdAt leaves datetime's range in UTC, or one carrying a
field nested 300 deep (records are open: the service serves it back as written). Every
good answer posted around it must be stored. On X, a search that answers the same
next_token for ever must end one backfill.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import App
from bot.clock import JumpClock
from bot.platforms.x.collecting import MAX_SEARCH_PAGES
from bot.script import load_script
from bot.testing.fake_bluesky import FakeBlueskyServer
from bot.testing.fake_x import FakeXServer
from tests.conftest import write_script
from tests.platforms.test_bluesky_e2e import SCRIPT, bluesky_settings, stored
from tests.platforms.test_hostile_conversion import OUT_OF_RANGE, nested
from tests.platforms.test_x_e2e import until
from tests.platforms.test_x_platform import make_platform


def _poison_time(record: dict[str, Any]) -> None:
    record["createdAt"] = OUT_OF_RANGE[0]


def _deep_field(record: dict[str, Any]) -> None:
    record["extra"] = nested(300)


@pytest.mark.parametrize("poison", [_poison_time, _deep_field])
async def test_a_hostile_bluesky_post_costs_only_itself(tmp_path: Path, poison: Any) -> None:
    async with FakeBlueskyServer() as server:
        script = load_script(write_script(tmp_path / "chats", SCRIPT, name="b.yaml",
                                          chat_id="bchat"))
        app = App(bluesky_settings(tmp_path, server), scripts=[script],
                  platform_override=["bluesky"], with_scheduler=False, with_web=False)
        await app.start()
        try:
            await app.start_session("bchat", pace=60)
            good = [server.add_post(f"early{i}", f"A1 early {i} #TestChat", tags=("TestChat",))
                    for i in range(2)]
            bad = server.add_post("mallory", "A1 poison #TestChat", tags=("TestChat",))
            poison(server.records[bad]["value"])
            good += [server.add_post(f"late{i}", f"A1 late {i} #TestChat", tags=("TestChat",))
                     for i in range(3)]
            await until(lambda: set(good) <= set(stored(app.archive)),
                        "every good answer stored")
            later = server.add_post("later", "A1 after the poison #TestChat",
                                    tags=("TestChat",))
            await until(lambda: later in stored(app.archive), "collection still moving")
        finally:
            await app.stop()


class RepeatingTokenX(FakeXServer):
    """The fake X service, except every search page names the same next page."""

    searches = 0

    async def _search(self, request: web.Request) -> web.Response:
        type(self).searches += 1
        query = request.rel_url.query.copy()
        query.pop("next_token", None)  # the fake refuses tokens it never issued
        answer = await super()._search(request.clone(rel_url=request.rel_url.with_query(query)))
        assert isinstance(answer, web.Response) and answer.body is not None
        body = json.loads(answer.body)  # type: ignore[arg-type]
        body.setdefault("meta", {})["next_token"] = "SAME-EVERY-TIME"
        return web.json_response(body)


async def test_a_repeating_next_token_ends_the_backfill(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = JumpClock()
    async with RepeatingTokenX(clock=clock) as server:
        tweet = server.add_tweet("alice", "A1 hello #NHSSM")
        platform = make_platform(server, clock)
        await platform.start()
        try:
            result = await asyncio.wait_for(platform.backfill({}), 60)
        finally:
            await platform.stop()
    assert tweet in [e.message_id for e in result.events]
    assert RepeatingTokenX.searches <= 3  # the first page, its repeat, no more
    assert "answered next_token" in caplog.text


async def test_a_search_that_never_ends_stops_at_the_page_cap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh tokens for ever: MAX_SEARCH_PAGES pages, then the gap is told."""
    monkeypatch.setattr("bot.platforms.x.collecting.MAX_SEARCH_PAGES", 4)

    class EndlessX(FakeXServer):
        async def _search(self, request: web.Request) -> web.Response:
            query = request.rel_url.query.copy()
            page = int(query.pop("next_token", "0"))
            answer = await super()._search(
                request.clone(rel_url=request.rel_url.with_query(query)))
            body = json.loads(answer.body)  # type: ignore[attr-defined]
            body.setdefault("meta", {})["next_token"] = str(page + 1)
            return web.json_response(body)

    clock = JumpClock()
    async with EndlessX(clock=clock) as server:
        server.add_tweet("alice", "A1 hello #NHSSM")
        platform = make_platform(server, clock)
        gaps: list[str] = []
        platform.report_gap = gaps.append  # type: ignore[method-assign]
        await platform.start()
        try:
            await asyncio.wait_for(platform.backfill({}), 60)
        finally:
            await platform.stop()
    assert any("still had pages after 4" in g for g in gaps)
    assert MAX_SEARCH_PAGES >= 4
