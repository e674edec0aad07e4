"""The fake X server speaks the v2 shapes the adapter relies on (its real test is the adapter)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.testing.fake_x import DUPLICATE_DETAIL, FakeXServer

BEARER = {"Authorization": "Bearer app-token"}
OAUTH = {"Authorization": 'OAuth oauth_consumer_key="ck", oauth_token="at", oauth_signature="sig"'}


@pytest.fixture
async def server() -> Any:
    async with FakeXServer() as s:
        yield s


async def _get(server: FakeXServer, path: str, headers: dict[str, str], **params: str) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.base_url + path, params=params, headers=headers) as r,
    ):
        return r.status, dict(r.headers), await r.json()


async def _post(server: FakeXServer, body: dict[str, Any], headers: dict[str, str]) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.base_url + "/2/tweets", json=body, headers=headers) as r,
    ):
        return r.status, dict(r.headers), await r.json()


async def test_every_response_carries_rate_limit_headers(server: FakeXServer) -> None:
    for headers in (BEARER, OAUTH, {}):
        status, got, _ = await _get(server, "/2/users/me", headers)
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= {
            k.lower() for k in got
        }, status
    statuses = [r.status for r in server.requests]
    assert statuses == [403, 200, 401]  # app-only bearer cannot ask who "me" is


async def test_search_pages_newest_first_with_meta_and_includes(server: FakeXServer) -> None:
    root = server.add_tweet("alice", "Q1 #NHSSM")
    ids = [server.add_tweet(f"user{i}", f"A1 answer {i} #nhssm", reply_to=root) for i in range(12)]
    server.add_tweet("bob", "RT-less other chat #other")
    params = {
        "query": "#NHSSM -is:retweet",
        "max_results": "10",
        "tweet.fields": "created_at,author_id,conversation_id,referenced_tweets,public_metrics",
        "expansions": "author_id,referenced_tweets.id",
    }
    status, _, page1 = await _get(server, "/2/tweets/search/recent", BEARER, **params)
    assert status == 200
    assert [t["id"] for t in page1["data"]] == list(reversed(ids))[:10]
    meta = page1["meta"]
    assert meta["result_count"] == 10 and meta["newest_id"] == ids[-1] and "next_token" in meta
    first = page1["data"][0]
    assert first["conversation_id"] == root
    assert first["referenced_tweets"] == [{"type": "replied_to", "id": root}]
    assert first["created_at"].endswith("Z") and "like_count" in first["public_metrics"]
    assert {u["username"] for u in page1["includes"]["users"]} >= {"user11", "user2"}
    assert [t["id"] for t in page1["includes"]["tweets"]] == [root]

    params["next_token"] = meta["next_token"]
    _, _, page2 = await _get(server, "/2/tweets/search/recent", BEARER, **params)
    assert [t["id"] for t in page2["data"]] == [ids[1], ids[0], root]
    assert "next_token" not in page2["meta"]

    _, _, empty = await _get(
        server, "/2/tweets/search/recent", BEARER, query="#NHSSM", since_id=ids[-1]
    )
    assert empty == {"meta": {"result_count": 0}}


async def test_search_operators(server: FakeXServer) -> None:
    root = server.add_tweet("host", "Welcome #NHSSM")
    reply = server.add_tweet("bob", "@host hello, no tag here", reply_to=root)
    rt = server.add_tweet("carol", "", retweet_of=root)
    quote = server.add_tweet("dave", "so true #NHSSM", quote_of=root)
    cases = {
        f"conversation_id:{root}": {root, reply},
        "#nhssm -is:retweet": {root, quote},
        "#NHSSM is:retweet": {rt},
        "#NHSSM is:quote": {quote},
        "from:bob": {reply},
        "hello -is:reply": set(),
    }
    for query, expected in cases.items():
        _, _, body = await _get(server, "/2/tweets/search/recent", BEARER, query=query)
        assert {t["id"] for t in body.get("data", [])} == expected, query
    status, _, body = await _get(server, "/2/tweets/search/recent", BEARER, query="(a OR b)")
    assert status == 400 and body["title"] == "Invalid Request"


async def test_duplicate_and_too_long_posts(server: FakeXServer) -> None:
    status, _, body = await _post(server, {"text": "Q1 #NHSSM"}, OAUTH)
    assert status == 201 and set(body["data"]) >= {"id", "text"}
    status, _, body = await _post(server, {"text": "Q1 #NHSSM"}, OAUTH)
    assert status == 403 and body["detail"] == DUPLICATE_DETAIL and body["title"] == "Forbidden"
    status, _, body = await _post(server, {"text": "x" * 281}, OAUTH)
    assert status == 400 and "too long" in body["errors"][0]["message"]
    status, _, _ = await _post(server, {"text": "with bearer"}, BEARER)
    assert status == 403
    assert [t["text"] for t in server.posted] == ["Q1 #NHSSM"]


async def test_injected_failures_and_no_search_tier(server: FakeXServer) -> None:
    server.fail_next(429, reset_in=100)
    status, headers, body = await _get(server, "/2/users/me", OAUTH)
    assert status == 429 and headers["x-rate-limit-remaining"] == "0"
    assert int(headers["x-rate-limit-reset"]) >= int(server.clock.now().timestamp()) + 99
    server.fail_next(503, path="/2/tweets/search")
    status, _, _ = await _get(server, "/2/users/me", OAUTH)
    assert status == 429  # the user endpoint's window is still exhausted
    status, _, _ = await _get(server, "/2/tweets/search/recent", BEARER, query="#x")
    assert status == 503
    server.search_forbidden = True
    status, _, body = await _get(server, "/2/tweets/search/recent", BEARER, query="#x")
    assert status == 403 and body["errors"][0]["code"] == 453
    server.search_forbidden_style = "client-not-enrolled"
    status, _, body = await _get(server, "/2/tweets/search/recent", BEARER, query="#x")
    assert status == 403 and body["reason"] == "client-not-enrolled"
