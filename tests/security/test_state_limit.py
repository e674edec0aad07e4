"""The room's plain JSON reads are limited per client address (issue 12, finding 5's gap).

Before: `GET /api/chats/<chat>/state` had no limit at all, while WebSocket joins and
messages did, so one client polling in a loop made the room read the archive for it as
fast as it liked. Now at most `[web] state_requests_per_minute_per_address` (120) reads a
minute per address, answered 429 with Retry-After beyond; the address comes from
X-Forwarded-For only behind a trusted proxy. `?before=<id>` gives one older page through
the same code as the WebSocket's "older" frame, under the same limit.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.clock import FakeClock
from tests.web.conftest import running_app, until

STATE = "/api/chats/webtest/state"
KEY = "state-limit-browser-key"


async def test_one_address_gets_120_reads_a_minute_then_429_with_retry_after(  # type: ignore[no-untyped-def]
        tmp_path, clock) -> None:
    async with running_app(tmp_path, clock=clock) as (_bot, client):
        statuses: Counter[int] = Counter()
        for _ in range(150):
            r = await client.get(STATE, headers={"X-Room-Key": KEY})
            statuses[r.status] += 1
            clock.advance(0.1)  # 150 reads in 15 seconds
        assert statuses == {200: 120, 429: 30}, statuses
        refused = await client.get(STATE)
        body = await refused.json()
        assert refused.status == 429 and body["code"] == "rate_limited"
        assert "Your network is asking for the room too fast" in body["error"]
        # The oldest read counted was 15 s ago: it leaves the minute in about 45 s.
        assert 40 <= int(refused.headers["Retry-After"]) <= 46, refused.headers["Retry-After"]
        # Unknown chats count too: probing names is no way around the limit.
        assert (await client.get("/api/chats/nosuchchat/state")).status == 429
        clock.advance(int(refused.headers["Retry-After"]))
        again = await client.get(STATE)
        assert again.status == 200 and (await again.json())["type"] == "state"


async def test_the_limit_is_a_setting_and_messages_keep_their_own(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock,
                           state_requests_per_minute_per_address=3) as (bot, client):
        assert [(await client.get(STATE)).status for _ in range(4)] == [200, 200, 200, 429]
        await bot.start_session("webtest")
        await until(lambda: bot.live_session("webtest"), what="live")
        # Reading too fast does not stop the same address from taking part.
        r = await client.post("/api/chats/webtest/messages",
                              json={"key": KEY, "name": "Reader", "text": "A1 still here"})
        assert r.status == 200, await r.text()


async def test_behind_a_trusted_proxy_each_client_has_its_own_minute(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock, trusted_proxies=("127.0.0.1",),
                           state_requests_per_minute_per_address=5) as (_bot, client):
        busy = {"X-Forwarded-For": "203.0.113.7"}
        assert [(await client.get(STATE, headers=busy)).status for _ in range(6)] == \
            [200] * 5 + [429]
        other = await client.get(STATE, headers={"X-Forwarded-For": "198.51.100.9"})
        assert other.status == 200
        # The busy client cannot escape by naming another hop before the proxy's.
        spoof = await client.get(STATE, headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
        assert spoof.status == 429
    async with running_app(tmp_path / "direct", clock=clock,
                           state_requests_per_minute_per_address=5) as (_bot, client):
        # Without a trusted proxy X-Forwarded-For counts for nothing: all five are the peer's.
        made_up = [(await client.get(STATE, headers={"X-Forwarded-For": f"10.0.0.{i}"})).status
                   for i in range(6)]
        assert made_up == [200] * 5 + [429]


async def test_before_gives_one_older_page_like_the_websocket(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock, messages_per_minute=1000,
                           messages_per_minute_per_address=1000) as (bot, client):
        await bot.start_session("webtest")
        await until(lambda: bot.live_session("webtest"), what="live")
        for i in range(130):
            r = await client.post("/api/chats/webtest/messages", json={  # 130 people, once each
                "key": f"{KEY}-{i:04d}", "name": f"Writer {i}", "text": f"A1 answer number {i}"})
            assert r.status == 200, await r.text()
            clock.advance(1)
        state = await (await client.get(STATE)).json()
        assert state["more"] is True
        newest = [m["text"] for m in state["messages"] if not m["host"]]
        assert newest[-1] == "A1 answer number 129"
        page = await (await client.get(STATE, params={"before": state["messages"][0]["id"]})
                      ).json()
        assert page["type"] == "older" and page["session"] == state["session"]["id"]
        older = [m["text"] for m in page["messages"] if not m["host"]]
        shown = set(newest)
        assert older and not shown & set(older)
        assert older[-1] == f"A1 answer number {int(newest[0].rsplit(' ', 1)[1]) - 1}"
        # Bounded and validated: an unknown id is an empty page, a huge one a plain refusal.
        unknown = await (await client.get(STATE, params={"before": "web-does-not-exist"})).json()
        assert unknown["messages"] == [] and unknown["more"] is False
        huge = await client.get(STATE, params={"before": "9" * 5000})
        assert huge.status == 400 and (await huge.json())["code"] == "no_older"
        empty = await client.get(STATE, params={"before": ""})
        assert empty.status == 400


# What an HTTP client can put in a header: printable Latin-1 (no control characters).
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    exclude_characters="\x7f"), max_size=80)
_ADDRESSES = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


@pytest.fixture
async def proxied(tmp_path, clock: FakeClock) -> AsyncIterator[tuple[App, object]]:  # type: ignore[no-untyped-def]
    async with running_app(tmp_path, clock=clock, trusted_proxies=("127.0.0.1",),
                           state_requests_per_minute_per_address=3) as pair:
        yield pair


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made_up=HEADER_TEXT)
async def test_whatever_a_client_prepends_its_proxy_reported_address_is_counted(  # type: ignore[no-untyped-def]
        proxied, made_up) -> None:
    """Whatever a client writes in X-Forwarded-For, the proxy appends the address it saw,
    and that address alone is counted: 3 reads, then 429, never a 500."""
    _bot, client = proxied
    seen = next(_ADDRESSES)
    headers = {"X-Forwarded-For": f"{made_up}, {seen}"}
    statuses = [(await client.get(STATE, headers=headers)).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429], (made_up, statuses)


async def test_websocket_joins_and_older_pages_share_the_address_minute(  # type: ignore[no-untyped-def]
        tmp_path, clock) -> None:
    # A reconnect loop is no way around the JSON endpoint's limit: a join reads the room too.
    async with running_app(tmp_path, clock=clock,
                           state_requests_per_minute_per_address=4) as (_bot, client):
        assert (await client.get(STATE)).status == 200  # one of the minute's four
        frames = []
        for n in range(4):
            ws = await client.ws_connect("/chats/webtest/ws")
            await ws.send_json({"type": "join", "key": f"{KEY}-{n}", "name": f"Reader {n}"})
            frames.append(await ws.receive_json(timeout=10))
            if n == 2:  # joined: an older page counts as well
                await ws.send_json({"type": "older", "before": "0", "nonce": "o1"})
                frames.append(await ws.receive_json(timeout=10))
            await ws.close()
        kinds = [(f["type"], f.get("code")) for f in frames]
        assert kinds == [("state", None), ("state", None), ("state", None),
                         ("error", "rate_limited"), ("error", "rate_limited")], kinds
        refused_join = frames[-1]
        assert refused_join["nonce"] is None and 1 <= refused_join["retry_after"] <= 61
        assert "Your network is asking for the room too fast" in refused_join["error"]
        assert frames[-2]["nonce"] == "o1"  # the older page was the one refused first
        clock.advance(61)
        ws = await client.ws_connect("/chats/webtest/ws")
        await ws.send_json({"type": "join", "key": KEY, "name": "Reader"})
        assert (await ws.receive_json(timeout=10))["type"] == "state"  # the minute has passed
        await ws.close()
