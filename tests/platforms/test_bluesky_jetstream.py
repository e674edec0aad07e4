"""Bluesky live from Jetstream against the fake network's real WebSocket: tagged posts and
replies into the bot's threads arrive (read whole through getPosts), everything else on
the network is sieved out, deletes are deletes, a dropped connection falls back to polling
with the gap read and reconnects from just before its last commit, and hostile frames are
skipped. And the frame checks themselves, fuzzed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.base import ChatContext
from bot.platforms.bluesky.adapter import BlueskyPlatform
from bot.platforms.bluesky.jetstream import POST, commit_of, replied_to, tags_of
from bot.testing.fake_bluesky import FakeBlueskyServer
from tests.platforms.gathered import Gathered
from tests.platforms.test_x_e2e import until


def Live(server: FakeBlueskyServer, **settings: object) -> Gathered:  # noqa: N802
    """The adapter reading the fake's Jetstream, its events gathered."""
    return Gathered(BlueskyPlatform(
        ChatContext("c", "Chat", "#NHSSM", {
            "jetstream": server.jetstream_url, "poll_interval": 0.2,
            "jetstream_retry_seconds": 0.5, "lookback_seconds": 3600, **settings}),
        handle=server.me.handle, app_password=server.password, service=server.base_url))


@pytest.fixture
async def server() -> AsyncIterator[FakeBlueskyServer]:
    async with FakeBlueskyServer() as s:
        yield s


def searches(server: FakeBlueskyServer) -> int:
    return sum(1 for _, nsid in server.requests if nsid == "app.bsky.feed.searchPosts")


async def test_the_chats_posts_arrive_from_jetstream_and_the_rest_is_sieved_out(
        server: FakeBlueskyServer) -> None:
    async with Live(server) as live:
        await until(lambda: server.jetstream.open_connections == 1 and searches(server) == 1,
                    "Jetstream open and the gap before it searched")
        q = await live.bot.post("Q1 What helps?", new_thread="Q1")
        tagged = server.add_post("ann", "A1 time to talk #nhssm", tags=("nhssm",))
        untagged_reply = server.add_post("bob", "agreed", reply_to=q.id)
        deep = server.add_post("cat", "me too", reply_to=untagged_reply)
        elsewhere = server.add_post("dan", "my lunch #food", tags=("food",))
        server.jetstream.identity("did:plc:someone", "someone.bsky.social")
        await until(lambda: all(live.kinds(u) == ["created"]
                                for u in (tagged, untagged_reply, deep)), "all three arrived")
        server.delete_post(tagged)
        await until(lambda: live.kinds(tagged) == ["created", "deleted"], "the delete arrived")
    assert live.kinds(elsewhere) == []
    message = next(e.message for e in live.events if e.message_id == tagged)
    assert message is not None and message.author.handle.startswith("ann")  # read whole
    assert searches(server) == 1  # Jetstream, not search, carried the chat
    assert server.jetstream.cursors == [None]


async def test_a_dropped_jetstream_polls_reads_the_gap_and_resumes_from_its_cursor(
        server: FakeBlueskyServer) -> None:
    async with Live(server) as live:
        await until(lambda: server.jetstream.open_connections == 1, "Jetstream open")
        first = server.add_post("ann", "A1 before #NHSSM", tags=("NHSSM",))
        await until(lambda: live.kinds(first) == ["created"], "live before the drop")
        server.jetstream.refuse = True
        server.jetstream.drop_all()
        gap = [server.add_post(f"p{n}", f"A{n} in the gap #NHSSM", tags=("NHSSM",))
               for n in range(4)]
        await until(lambda: all(live.kinds(u) == ["created"] for u in gap), "polled")
        server.jetstream.refuse = False
        await until(lambda: server.jetstream.open_connections == 1
                    and server.jetstream.connections >= 2, "Jetstream again")
        after = server.add_post("eve", "A2 after #NHSSM", tags=("NHSSM",))
        await until(lambda: live.kinds(after) == ["created"], "live after the reconnect")
    created = [e.message_id for e in live.events if e.kind == "created"]
    assert sorted(created) == sorted([first, *gap, after])  # each once
    resumed = [c for c in server.jetstream.cursors[1:] if c is not None]
    assert resumed and all(int(c) < server.jetstream.log[-1]["time_us"] for c in resumed)


async def test_hostile_frames_are_skipped(server: FakeBlueskyServer) -> None:
    async with Live(server) as live:
        await until(lambda: server.jetstream.open_connections == 1, "Jetstream open")
        for raw in (b"{not json", b"[]", b'{"kind": "commit"}',
                    orjson.dumps({"kind": "commit", "did": "did:plc:x", "time_us": -1,
                                  "commit": {"operation": "create", "collection": POST,
                                             "rkey": "a/../b"}}),
                    orjson.dumps({"kind": "commit", "did": "not a did", "time_us": 1,
                                  "commit": {"operation": "create", "collection": POST,
                                             "rkey": "3l1", "record": {"text": "#NHSSM"}}})):
            server.jetstream.send_raw(raw)
        uri = server.add_post("ann", "A1 after the junk #NHSSM", tags=("NHSSM",))
        await until(lambda: live.kinds(uri) == ["created"], "a good post after the junk")
    assert {e.kind for e in live.events} == {"created"}


def test_the_sieve_reads_tags_and_reply_refs() -> None:
    record = {"text": "A1 yes #NHSSM and #Other", "facets": [
        {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Facet"}]}],
        "reply": {"root": {"uri": "at://r", "cid": "c"}, "parent": {"uri": "at://p"}}}
    assert tags_of(record) == {"nhssm", "other", "facet"}
    assert replied_to(record) == {"at://r", "at://p"}
    assert replied_to({"text": "top"}) == set()
    frame = {"did": "did:plc:abc", "time_us": 5, "kind": "commit", "commit": {
        "rev": "r", "operation": "delete", "collection": POST, "rkey": "3l3f6nzl3cv2s"}}
    commit = commit_of(frame)
    assert commit is not None and commit.uri == f"at://did:plc:abc/{POST}/3l3f6nzl3cv2s"
    assert commit.record is None and commit.operation == "delete"
    assert commit_of({**frame, "commit": {**frame["commit"], "collection": "app.bsky.feed.like"}}
                     ) is None


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                          c, max_size=4),
                     max_leaves=20)


@given(_json, st.dictionaries(st.sampled_from(["did", "time_us", "kind", "commit"]), _json))
def test_any_frame_is_a_checked_commit_or_nothing(value: object, fields: dict) -> None:
    for frame in (value, {"kind": "commit", **fields}):
        commit = commit_of(frame)
        if commit is not None:
            assert commit.uri.startswith("at://did:") and commit.operation in {
                "create", "update", "delete"} and commit.time_us >= 0
        record = frame if isinstance(frame, dict) else {}
        assert all(isinstance(t, str) for t in tags_of(record))
        assert all(isinstance(u, str) for u in replied_to(record))
