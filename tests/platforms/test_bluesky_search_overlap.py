"""Bluesky's hashtag search reaches back a little behind its cursor, so no answer is lost.

searchPosts filters `since` on sortAt, the earlier of a post's createdAt and indexedAt (the
fake does as the lexicon documents), while the adapter's cursor is the newest indexedAt it
has read. An answer written two seconds before an earlier answer was indexed (indexing
lag, a slow phone clock) sorts before the cursor: it must still be collected, once.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.app import App
from bot.platforms.payload import parse_time
from bot.script import load_script
from bot.testing.fake_bluesky import FakeBlueskyServer, iso
from tests.conftest import write_script
from tests.platforms.test_bluesky_e2e import SCRIPT, bluesky_settings, stored
from tests.platforms.test_opennets_actions import on_bluesky
from tests.platforms.test_x_e2e import until


def backdate(server: FakeBlueskyServer, uri: str, before: str, seconds: float) -> None:
    """Make `uri`'s createdAt `seconds` earlier than the time `before`."""
    at = parse_time(before)
    assert at is not None
    server.records[uri]["value"]["createdAt"] = iso(at - timedelta(seconds=seconds))


async def test_an_answer_written_before_the_cursor_is_collected(tmp_path: Path) -> None:
    async with FakeBlueskyServer() as server:
        script = load_script(write_script(tmp_path / "chats", SCRIPT, name="b.yaml",
                                          chat_id="bchat"))
        app = App(bluesky_settings(tmp_path, server), scripts=[script],
                  platform_override=["bluesky"], with_scheduler=False, with_web=False)
        await app.start()
        try:
            await app.start_session("bchat", pace=60)
            ann = server.add_post("ann", "A1 from ann #TestChat", tags=("TestChat",))
            await until(lambda: ann in stored(app.archive), "ann's answer stored")
            bob = server.add_post("bob", "A1 from bob #TestChat", tags=("TestChat",))
            backdate(server, bob, server.records[ann]["indexedAt"], 2)
            await until(lambda: bob in stored(app.archive), "bob's answer stored")
        finally:
            await app.stop()


async def test_what_the_overlap_finds_again_is_handed_over_once() -> None:
    async with on_bluesky() as (server, bot):
        ann = server.add_post("ann", "A1 ann #NHSSM", tags=("NHSSM",))
        first = await bot.backfill({})
        bob = server.add_post("bob", "A1 bob #NHSSM", tags=("NHSSM",))
        backdate(server, bob, server.records[ann]["indexedAt"], 60)
        second = await bot.backfill(dict(first.cursor))
        third = await bot.backfill(dict(second.cursor))
    assert [e.message_id for e in first.events] == [ann]
    assert [e.message_id for e in second.events] == [bob]  # ann found again, not repeated
    assert third.events == ()
    assert first.cursor["since"] == server.records[ann]["indexedAt"]  # the cursor is unmoved


def test_the_fake_sorts_and_filters_on_sort_at() -> None:
    server = FakeBlueskyServer()
    uri = server.add_post("ann", "A1 #NHSSM", tags=("NHSSM",))
    indexed = server.records[uri]["indexedAt"]
    server.records[uri]["value"]["createdAt"] = indexed  # the fake reads its clock twice
    assert server.sort_at(uri) == indexed
    backdate(server, uri, indexed, 30)
    assert server.sort_at(uri) == server.records[uri]["value"]["createdAt"] < indexed
    server.records[uri]["value"]["createdAt"] = "9999-12-31T23:59:59.000Z"  # later: indexedAt
    assert server.sort_at(uri) == indexed
