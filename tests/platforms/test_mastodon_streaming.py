"""The Mastodon hashtag stream (server-sent events) against the fake instance's real SSE
server: statuses, edits and deletes arrive by stream; an instance that will not stream is
polled; a stream that drops or goes quiet is replaced by polling with the gap backfilled,
then tried again; hostile frames never stop collection. And the SSE parser itself, fuzzed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.base import ChatContext
from bot.platforms.mastodon.adapter import MastodonPlatform
from bot.platforms.mastodon.streaming import (
    MAX_LINE,
    SSEParser,
    StreamBroken,
    StreamEvent,
    streaming_base,
)
from bot.testing.fake_mastodon import FakeMastodonServer
from tests.platforms.gathered import Gathered
from tests.platforms.test_x_e2e import until


def Running(server: FakeMastodonServer, **settings: object) -> Gathered:  # noqa: N802
    """The adapter on the fake instance, streaming where it can, its events gathered."""
    defaults: dict[str, object] = {"poll_interval": 0.05, "request_timeout": 2,
                                   "backoff_base": 0.05, "stream_retry_seconds": 0.3}
    return Gathered(MastodonPlatform(
        ChatContext("c", "Chat", "#NHSSM", {**defaults, **settings}),
        api_base_url=server.base_url, access_token=server.token))


@pytest.fixture
async def server() -> AsyncIterator[FakeMastodonServer]:
    async with FakeMastodonServer() as s:
        s.rate_window = 2.0  # polling is stretched over what is left of a short window
        yield s


def timeline_reads(server: FakeMastodonServer) -> int:
    return sum(1 for _, path in server.requests if path.startswith("/api/v1/timelines/tag"))


async def test_statuses_edits_and_deletes_arrive_by_the_stream(
        server: FakeMastodonServer) -> None:
    async with Running(server) as run:
        await until(lambda: server.stream.open_streams == 1 and timeline_reads(server) == 1,
                    "the stream opened and the gap before it read")
        reads = timeline_reads(server)
        sid = server.add_status("ann", "A1 by stream #NHSSM")
        remote = server.add_status("bob@remote.example", "A1 from afar #nhssm")
        server.add_status("cat", "another chat #Other")
        await until(lambda: run.kinds(sid) == ["created"] and run.kinds(remote) == ["created"],
                    "both statuses streamed")
        server.edit_status(sid, "A1 by stream, edited #NHSSM")
        await until(lambda: run.kinds(sid) == ["created", "edited"], "the edit streamed")
        server.delete_status(remote)
        await until(lambda: run.kinds(remote) == ["created", "deleted"], "the delete streamed")
        assert timeline_reads(server) == reads  # nothing polled while the stream was open
    edited = next(e for e in run.events if e.kind == "edited")
    assert edited.message is not None and "edited" in edited.message.text
    assert ("delete", remote) in server.stream.sent  # the wire: a bare id, not JSON
    assert {e.message_id for e in run.events if e.kind == "created"} == {sid, remote}


async def test_an_instance_that_will_not_stream_is_polled(server: FakeMastodonServer) -> None:
    server.stream.refuse = True
    async with Running(server) as run:
        sid = server.add_status("ann", "A1 polled #NHSSM")
        await until(lambda: run.kinds(sid) == ["created"], "the status polled")
        server.edit_status(sid, "A1 polled, then edited #NHSSM")
        await until(lambda: run.kinds(sid) == ["created", "edited"], "the edit found again")
        reads = timeline_reads(server)
        await until(lambda: timeline_reads(server) > reads + 4, "polling went on")
    assert run.kinds(sid) == ["created", "edited"]  # found again many times, told once
    assert server.stream.connections == 0


async def test_a_dropped_stream_falls_back_to_polling_and_backfills_the_gap(
        server: FakeMastodonServer) -> None:
    async with Running(server, stream_retry_seconds=1.0) as run:
        await until(lambda: server.stream.open_streams == 1, "the stream opened")
        first = server.add_status("ann", "A1 before the drop #NHSSM")
        await until(lambda: run.kinds(first) == ["created"], "streamed before the drop")
        server.stream.drop_all()
        await until(lambda: server.stream.open_streams == 0, "the stream dropped")
        gap = [server.add_status(f"user{n}", f"A{n} during the gap #NHSSM") for n in range(5)]
        await until(lambda: all(run.kinds(s) == ["created"] for s in gap), "the gap collected")
        await until(lambda: server.stream.connections == 2, "the stream tried again")
        after = server.add_status("eve", "A2 after the reconnect #NHSSM")
        await until(lambda: run.kinds(after) == ["created"], "streamed after the reconnect")
    created = [e.message_id for e in run.events if e.kind == "created"]
    assert sorted(created) == sorted([first, *gap, after])  # each once


async def test_a_silent_stream_is_dropped_and_polling_takes_over(
        server: FakeMastodonServer) -> None:
    server.stream.heartbeat_seconds = 3600  # the streaming server hangs: no heartbeats
    async with Running(server, stream_quiet_seconds=0.3, stream_retry_seconds=60) as run:
        await until(lambda: server.stream.connections == 1, "the stream opened")
        reads = timeline_reads(server)
        await until(lambda: timeline_reads(server) > reads + 2, "polling took over")
        sid = server.add_status("ann", "A1 while the stream is silent #NHSSM")
        await until(lambda: run.kinds(sid) == ["created"], "polled instead")


async def test_hostile_frames_never_stop_collection(server: FakeMastodonServer) -> None:
    async with Running(server) as run:
        await until(lambda: server.stream.open_streams == 1, "the stream opened")
        server.stream.send_raw(b"event: update\ndata: {not json\n\n"
                               b"event: update\ndata: [1, 2]\n\n"
                               b"event: update\ndata: {\"id\": \"1\"}\n\n"
                               b"event: delete\ndata: ../../etc\n\n"
                               b"event: delete\ndata: 999999\n\n")
        sid = server.add_status("ann", "A1 after the junk #NHSSM")
        await until(lambda: run.kinds(sid) == ["created"], "a good status after junk")
        server.stream.send_raw(b"data: " + b"x" * (MAX_LINE + 10))  # a line with no end
        await until(lambda: server.stream.connections == 2, "dropped, and opened again later")
        later = server.add_status("bob", "A2 after the flood #NHSSM")
        await until(lambda: run.kinds(later) == ["created"], "collected by polling")
    assert {e.kind for e in run.events} == {"created"}


def test_the_streaming_server_address_comes_from_the_instance() -> None:
    assert streaming_base("https://a.example/", "wss://streaming.a.example") == \
        "https://streaming.a.example"
    assert streaming_base("http://127.0.0.1:5", "ws://127.0.0.1:5") == "http://127.0.0.1:5"
    assert streaming_base("https://a.example", "") == "https://a.example"
    assert streaming_base("https://a.example", "javascript:alert(1)") == "https://a.example"


_names = st.sampled_from(["update", "status.update", "delete", "notification"])
_data = st.lists(st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]),
                         max_size=30), min_size=1, max_size=3)


@given(st.lists(st.tuples(_names, _data), max_size=8), st.data())
def test_the_parser_reads_events_however_the_bytes_are_chunked(
        events: list[tuple[str, list[str]]], data: st.DataObject) -> None:
    wire = b""
    for name, lines in events:
        eol = data.draw(st.sampled_from([b"\n", b"\r\n"]))
        if data.draw(st.booleans()):
            wire += b":thump" + eol
        wire += b"event: " + name.encode() + eol
        wire += b"".join(b"data: " + line.encode() + eol for line in lines) + eol
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    parser, parsed = SSEParser(), []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        parsed += parser.feed(wire[start:end])
    assert parsed == [StreamEvent(name, "\n".join(lines)) for name, lines in events]


@given(st.lists(st.binary(max_size=200), max_size=20))
def test_the_parser_survives_any_bytes(chunks: list[bytes]) -> None:
    parser = SSEParser()
    for chunk in chunks:
        try:
            events = parser.feed(chunk)
        except StreamBroken:
            return
        assert all(isinstance(e.name, str) and len(e.name) <= 100 for e in events)


def test_an_endless_line_breaks_the_stream_instead_of_growing() -> None:
    parser = SSEParser()
    with pytest.raises(StreamBroken):
        for _ in range(MAX_LINE // 65536 + 2):
            parser.feed(b"x" * 65536)
