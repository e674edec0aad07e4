"""The fake X server enforces X's production rules (issue 16): the 7-day search window,
pay-per-use credits, 24-hour posting caps, access levels, requested fields only, and
failures after X has accepted a request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.platforms.x.ids import snowflake_at, snowflake_time
from bot.platforms.x.pricing import CREATE_POST_USD, CREATE_POST_WITH_URL_USD, READ_POST_USD
from bot.testing.fake_x import FakeXServer

BEARER = {"Authorization": "Bearer app-token"}
OAUTH = {"Authorization": 'OAuth oauth_consumer_key="ck", oauth_token="at", oauth_signature="sig"'}
SEARCH = "/2/tweets/search/recent"


@pytest.fixture
async def fake() -> Any:
    async with FakeXServer(clock=FakeClock()) as s:
        yield s


async def _call(server: FakeXServer, method: str, path: str, headers: dict[str, str],
                body: Any = None, **params: str) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, server.base_url + path, params=params, json=body,
                     headers=headers) as r,
    ):
        return r.status, dict(r.headers), await r.json()


def _clock(server: FakeXServer) -> FakeClock:
    assert isinstance(server.clock, FakeClock)
    return server.clock


async def test_ids_are_snowflakes_of_their_creation_time(fake: FakeXServer) -> None:
    first = fake.add_tweet("ann", "one #t")
    _clock(fake).advance(3600)
    second = fake.add_tweet("ann", "two #t")
    assert int(second) > int(first)
    assert abs(snowflake_time(second) - fake.clock.now()) < timedelta(seconds=1)


async def test_search_reaches_back_seven_days_and_refuses_older_cursors(
    fake: FakeXServer,
) -> None:
    old = fake.add_tweet("ann", "old answer #t")
    _clock(fake).advance(8 * 86400)
    new = fake.add_tweet("ben", "new answer #t")
    status, _, body = await _call(fake, "GET", SEARCH, BEARER, query="#t")
    assert status == 200 and [t["id"] for t in body["data"]] == [new]
    status, _, body = await _call(fake, "GET", SEARCH, BEARER, query="#t", since_id=old)
    assert status == 400
    assert "'since_id' must be a tweet id created after" in body["errors"][0]["message"]
    edge = fake.clock.now() - timedelta(days=7)
    start = (edge - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _, body = await _call(fake, "GET", SEARCH, BEARER, query="#t", start_time=start)
    assert status == 400 and "start_time" in body["errors"][0]["parameters"]
    inside = str(snowflake_at(edge + timedelta(minutes=5)))
    status, _, body = await _call(fake, "GET", SEARCH, BEARER, query="#t", since_id=inside)
    assert status == 200 and [t["id"] for t in body["data"]] == [new]
    status, _, _ = await _call(fake, "GET", SEARCH, BEARER, query="#t", since_id=inside,
                               start_time=(edge + timedelta(hours=1)).strftime(
                                   "%Y-%m-%dT%H:%M:%SZ"))
    assert status == 400  # since_id and start_time together


async def test_fields_only_when_requested_and_unknown_fields_refused(fake: FakeXServer) -> None:
    fake.add_tweet("ann", "hello #t")
    _, _, bare = await _call(fake, "GET", SEARCH, BEARER, query="#t")
    assert set(bare["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in bare
    _, _, rich = await _call(fake, "GET", SEARCH, BEARER, query="#t",
                             **{"tweet.fields": "created_at,author_id"})
    assert {"created_at", "author_id"} <= set(rich["data"][0])
    status, _, body = await _call(fake, "GET", SEARCH, BEARER, query="#t",
                                  **{"tweet.fields": "created_at,favourites"})
    assert status == 400 and "tweet.fields" in body["errors"][0]["parameters"]


async def test_credits_are_spent_per_read_and_per_post_then_402(fake: FakeXServer) -> None:
    fake.ledger.credits = CREATE_POST_USD + CREATE_POST_WITH_URL_USD + 2 * READ_POST_USD
    for i in range(2):
        fake.add_tweet("ann", f"answer {i} #t")
    await _call(fake, "GET", SEARCH, BEARER, query="#t")
    await _call(fake, "GET", SEARCH, BEARER, query="#t")  # the same posts, the same day: free
    assert fake.ledger.spent == pytest.approx(2 * READ_POST_USD)
    status, _, _ = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "Q1 #t"})
    assert status == 201
    status, _, _ = await _call(fake, "POST", "/2/tweets", OAUTH,
                               {"text": "transcript https://example.org/t #t"})
    assert status == 201
    assert fake.ledger.credits is not None and fake.ledger.credits <= 1e-9
    status, _, body = await _call(fake, "GET", SEARCH, BEARER, query="#t")
    assert status == 402 and body["title"] == "CreditsDepleted"
    status, _, _ = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "Q2 #t"})
    assert status == 402 and len(fake.posted) == 2
    fake.ledger.credits = 5.0  # topped up
    status, _, _ = await _call(fake, "GET", SEARCH, BEARER, query="#t")
    assert status == 200


async def test_posting_has_24_hour_caps_with_their_own_reset(fake: FakeXServer) -> None:
    fake.caps.windows["user"].limit = 2
    for i in range(2):
        status, headers, _ = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": f"Q{i} #t"})
        assert status == 201
    assert headers["x-user-limit-24hour-remaining"] == "0"
    status, headers, _ = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "Q9 #t"})
    assert status == 429
    now = fake.clock.now().timestamp()
    assert int(headers["x-rate-limit-reset"]) < now + 901  # the 15-minute window...
    assert int(headers["x-user-limit-24hour-reset"]) > now + 80_000  # ...is not the cap's
    _clock(fake).advance(86_401)
    status, _, _ = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "Q9 #t"})
    assert status == 201


async def test_access_level_header_and_read_only_token(fake: FakeXServer) -> None:
    _, headers, _ = await _call(fake, "GET", "/2/users/me", OAUTH)
    assert headers["x-access-level"] == "read-write"
    _, headers, _ = await _call(fake, "GET", SEARCH, BEARER, query="#t")
    assert "x-access-level" not in headers  # only user-context answers say it
    fake.access_level = "read"
    status, headers, body = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "hi #t"})
    assert status == 403 and headers["x-access-level"] == "read"
    assert "oauth1-permissions" in body["type"] and not fake.posted


async def test_failure_after_acceptance_leaves_the_post_in_place(fake: FakeXServer) -> None:
    fake.fail_next(503, path="/2/tweets", after=True)
    status, _, _ = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "Welcome #t"})
    assert status == 503
    assert [t["text"] for t in fake.posted] == ["Welcome #t"]  # X had it all along
    status, _, body = await _call(fake, "POST", "/2/tweets", OAUTH, {"text": "Welcome #t"})
    assert status == 403 and "duplicate" in body["detail"]
