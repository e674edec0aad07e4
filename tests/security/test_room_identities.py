"""Finding 5 of issue 12: limits keyed on identities the client makes up.

Before: a new room key per message got 1,000 of 1,000 messages accepted and broadcast,
spam checks never fired, one client held 500 WebSockets, and any page could open one.
Now the room limits per author (so per connection) and per client address, moderation
judges floods per address as well as per author, sockets are capped per address and the
handshake checks Origin.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.archive import moderation_store
from bot.clock import FakeClock
from bot.platforms.web.guard import RateLimiter, Refused, check_all
from bot.platforms.web.origin import client_address, is_same_origin
from tests.web.conftest import frames_until, join, running_app, until

URL = "/api/chats/webtest/messages"


async def live_room(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.start_session("webtest")  # live, at the real pace: floods are judged per minute
    await until(lambda: bot.live_session("webtest"), what="live")


async def test_fresh_keys_from_one_address_are_throttled_and_judged_as_one(  # type: ignore[no-untyped-def]
        tmp_path, clock) -> None:
    async with running_app(tmp_path, clock=clock) as (bot, client):
        await live_room(bot)
        statuses: Counter[int] = Counter()
        accepted: list[str] = []
        for i in range(1000):
            r = await client.post(URL, json={"key": f"fresh-key-{i:06d}-padding",
                                             "name": f"Visitor {i}", "text": f"buy now {i}"})
            statuses[r.status] += 1
            if r.status == 200:
                accepted.append((await r.json())["id"])
            clock.advance(0.01)  # 1,000 messages in 10 seconds
        # 120 a minute from one address, whatever keys it makes up.
        assert statuses == {200: 120, 429: 880}, statuses
        refused = await (await client.post(URL, json={
            "key": "yet-another-fresh-key-0001", "name": "Visitor", "text": "hi"})).json()
        assert refused["code"] == "rate_limited" and "Your network" in refused["error"]
        # Moderation saw one sender: from the 80th message in a minute on, a flood.
        checks = [{e["check_name"] for e in moderation_store.events_for_message(
            bot.archive, "web", mid)} for mid in accepted]
        flooded = [i for i, c in enumerate(checks) if "spam_flood" in c]
        assert flooded == list(range(79, 120)), flooded
        assert not any(bot.archive.message("web", accepted[i]).public for i in flooded)
        assert all(bot.archive.message("web", mid).public for mid in accepted[:79])
        # A minute later the address may speak again.
        clock.advance(61)
        r = await client.post(URL, json={"key": "a-returning-key-000001", "name": "Back",
                                         "text": "A1 hello again"})
        assert r.status == 200


async def test_the_same_text_from_many_keys_is_a_repeat(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock) as (bot, client):
        await live_room(bot)
        ids = []
        for i in range(35):
            r = await client.post(URL, json={"key": f"repeat-key-{i:06d}-pad", "name": f"R{i}",
                                             "text": "Visit spam dot example for prizes"})
            ids.append((await r.json())["id"])
            clock.advance(5)  # slower than any flood: only the repetition gives it away
        repeats = [i for i, mid in enumerate(ids) if "spam_repeat" in {
            e["check_name"] for e in moderation_store.events_for_message(bot.archive, "web", mid)}]
        assert repeats == list(range(29, 35)), repeats


async def test_colleagues_behind_one_address_are_not_a_flood(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    """Thirty staff on one hospital NAT, each answering twice in a minute: all shown."""
    async with running_app(tmp_path, clock=clock) as (bot, client):
        await live_room(bot)
        for round_ in range(2):
            for person in range(30):
                r = await client.post(URL, json={
                    "key": f"nurse-{person:03d}-browser-key", "name": f"Nurse {person}",
                    "text": f"A1 on our ward we do thing {person}-{round_}"})
                assert r.status == 200, await r.text()
                clock.advance(0.5)
        for m in bot.archive.messages(bot.live_session("webtest")):
            assert m.is_host or m.public, m.text


async def test_a_websocket_connection_is_limited_like_its_author(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock, messages_per_minute=5) as (bot, client):
        await live_room(bot)
        ws, _ = await join(client, "Ann")
        codes = []
        for i in range(8):
            await ws.send_json({"type": "send", "text": f"A1 point {i}", "nonce": str(i)})
            frame = (await frames_until(ws, "ack" if i < 5 else "error"))[-1]
            codes.append(frame.get("code", "ok"))
        assert codes == ["ok"] * 5 + ["rate_limited"] * 3
        await ws.close()


async def test_edits_and_deletes_count_like_messages(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    """Every edit is broadcast to the whole room, so endless edits of one message were a
    flood by another name."""
    async with running_app(tmp_path, clock=clock, messages_per_minute=5) as (bot, client):
        await live_room(bot)
        ws, _ = await join(client, "Ann")
        await ws.send_json({"type": "send", "text": "A1 first", "nonce": "s"})
        mid = (await frames_until(ws, "ack"))[-1]["id"]
        codes = []
        for i in range(6):
            await ws.send_json({"type": "edit", "id": mid, "text": f"A1 take {i}",
                                "nonce": f"e{i}"})
            frame = (await frames_until(ws, "ack" if i < 4 else "error"))[-1]
            codes.append(frame.get("code", "ok"))
        assert codes == ["ok"] * 4 + ["rate_limited"] * 2  # 1 message + 4 edits = 5
        await ws.send_json({"type": "delete", "id": mid, "nonce": "d"})
        assert (await frames_until(ws, "error"))[-1]["code"] == "rate_limited"
        clock.advance(61)
        await ws.send_json({"type": "delete", "id": mid, "nonce": "d2"})
        await frames_until(ws, "ack")
        assert bot.archive.message("web", mid).deleted
        await ws.close()


async def test_connections_per_address_are_capped(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock, max_connections_per_address=4) as (
            _bot, client):
        open_ = [(await join(client, f"P{i}", key=f"cap-key-{i:04d}-padding"))[0]
                 for i in range(4)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/chats/webtest/ws")
        assert refused.value.status == 429
        await open_.pop().close()
        service_connections = await until(lambda: _connections(client) == 3 or None,
                                          what="the closed socket to be counted out")
        assert service_connections
        again, _ = await join(client, "P9", key="cap-key-9999-padding")
        for ws in [*open_, again]:
            await ws.close()
        await until(lambda: _connections(client) == 0 or None, what="all closed")


def _connections(client) -> int:  # type: ignore[no-untyped-def]
    from bot.webapp.routes import SERVICE_KEY

    return sum(client.server.app[SERVICE_KEY].connections.values())


async def test_default_cap_is_twenty_and_a_trusted_proxy_splits_it(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock, trusted_proxies=("127.0.0.1",)) as (
            _bot, client):
        first = [await client.ws_connect("/chats/webtest/ws",
                                         headers={"X-Forwarded-For": "203.0.113.1"})
                 for _ in range(20)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/chats/webtest/ws",
                                    headers={"X-Forwarded-For": "203.0.113.1"})
        assert refused.value.status == 429
        other = await client.ws_connect("/chats/webtest/ws",
                                        headers={"X-Forwarded-For": "198.51.100.9"})
        for ws in [*first, other]:
            await ws.close()
    async with running_app(tmp_path / "direct", clock=clock) as (_bot, client):
        mine = [await client.ws_connect("/chats/webtest/ws",
                                        headers={"X-Forwarded-For": f"10.0.0.{i}"})
                for i in range(20)]
        with pytest.raises(aiohttp.WSServerHandshakeError):  # made-up hops count for nothing
            await client.ws_connect("/chats/webtest/ws", headers={"X-Forwarded-For": "10.1.1.1"})
        for ws in mine:
            await ws.close()


async def test_the_handshake_checks_origin(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock,
                           public_url="https://chat.example.org") as (_bot, client):
        own = str(client.make_url("/")).rstrip("/")
        for foreign in ("http://evil.example", f"http://127.0.0.1:{client.port + 1}", "null",
                        "https://chat.example.org.evil.example"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect("/chats/webtest/ws", origin=foreign)
            assert refused.value.status == 403, foreign
        for allowed in (own, "https://chat.example.org", None):  # None: not a browser
            ws = await client.ws_connect("/chats/webtest/ws", origin=allowed)
            await ws.send_json({"type": "join", "key": "origin-test-key-0001", "name": "Ok"})
            assert (await ws.receive_json(timeout=10))["type"] == "state"
            await ws.close()


HOST_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60)
ORIGINS = st.one_of(
    HOST_TEXT, st.sampled_from(["http://room.example:8080", "HTTPS://Room.Example:8080",
                                "http://room.example:8081", "http://room.example:8080@evil",
                                "null", "http://room.example", "ws://room.example:8080"]),
    st.builds(lambda s, h: f"{s}://{h}", st.sampled_from(["http", "https", "ws", "", "x"]),
              HOST_TEXT))


@settings(deadline=None)
@given(origin=ORIGINS, public=st.one_of(st.just(""), HOST_TEXT, st.builds(
    lambda h: f"https://{h}", HOST_TEXT)), forwarded=HOST_TEXT)
# No host at all on both sides: nobody's origin, so no match (was taken as ours).
@example(origin="HTTP://@", public="HTTP://@", forwarded="")
@example(origin="http://:8080", public="https://:8080", forwarded="")
@example(origin="HTTP://%A", public="HTTP://%A", forwarded="")  # hostname keeps "%A"
@example(origin="HTTPS://0#@", public="HTTPS://0", forwarded="")  # `@` in the fragment
@example(origin="http://a@room.example:8080", public="", forwarded="")  # user info: refused
def test_origin_and_address_checks_take_any_header(origin: str, public: str,
                                                   forwarded: str) -> None:
    """Whatever Origin, public URL and X-Forwarded-For say: no exception, and a page is ours
    only if its host is exactly ours (or the public URL's)."""
    request = make_mocked_request("GET", "/chats/webtest/ws", headers={
        "Host": "room.example:8080", "Origin": origin, "X-Forwarded-For": forwarded})
    if is_same_origin(request, public):
        hosts = ["room.example:8080"]
        with contextlib.suppress(ValueError):
            hosts.append(urlsplit(public).hostname or "")
        # .lower(): urlsplit keeps the case of a host with a `%` in it (an IPv6 zone).
        assert any(h and h.lower() in origin.lower() for h in hosts), (origin, public)
        # No user info before the host; an `@` after it (a Referer's query) is no trick.
        assert "@" not in urlsplit(origin.strip()).netloc
        assert not origin.lower().startswith(("null", "x://"))
    assert client_address(request) == (request.remote or "?")  # no trusted proxy: the peer
    # Behind a trusted proxy: one of the reported hops, never a trusted proxy itself
    # unless every hop is one.
    peer = request.remote or "?"
    trusted = {peer, "10.0.0.1"}
    got = client_address(request, trusted)
    hops = [h.strip()[:64] for h in forwarded[:1024].split(",") if h.strip()]
    assert got in [*hops, peer]
    assert got not in trusted or all(h in trusted for h in hops)


@settings(deadline=None)  # a shared machine: time is not what this test is about
@given(events=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.floats(0, 30)),
                       max_size=300))
def test_no_interleaving_of_made_up_keys_beats_the_address_limit(
        events: list[tuple[int, int, float]]) -> None:
    """Any sequence of (address, key, pause) messages: in every sliding minute, no address
    gets more than its limit through and no key more than its own."""
    clock = FakeClock(datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
    per_key, per_address = RateLimiter(3, clock), RateLimiter(7, clock, who="Your network is")
    accepted: list[tuple[float, int, int]] = []
    for address, key, pause in events:
        clock.advance(pause)
        try:
            check_all([(per_key, f"k{key}"), (per_address, f"a{address}")])
        except Refused as exc:
            assert exc.status == 429
            continue
        accepted.append((clock.monotonic(), address, key))
    for at, address, key in accepted:
        window = [(a, k) for t, a, k in accepted if at - 60 < t <= at]
        assert sum(1 for a, _ in window if a == address) <= 7
        assert sum(1 for _, k in window if k == key) <= 3
