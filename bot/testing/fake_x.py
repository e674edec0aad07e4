"""A fake X API v2 server: a real aiohttp server on 127.0.0.1 speaking the v2 JSON shapes.

It serves exactly the endpoints the X adapter uses, with the real response and error
shapes, rate-limit headers on every response, and a Python control API for tests and
rehearsals (a simulated crowd, injected failures, slow responses, a tier without search):

    async with FakeXServer() as server:
        platform = XPlatform(ctx, ..., base_url=server.base_url)
        tid = server.add_tweet("alice", "A1 more time to talk #NHSSM")
        server.fail_next(429)
        ...
        assert server.posted[0]["text"].endswith("#NHSSM")

Endpoints: POST /2/tweets, GET /2/tweets/search/recent, PUT /2/tweets/:id/hidden,
GET /2/users/me. A query the fake cannot answer is a 400 (see fake_x_query), never nothing.

As strict as X in production (issue 16; the rules live in fake_x_rules): a 7-day search
window (older tweets absent, an older since_id/start_time a 400), duplicate-content 403s,
pay-per-use `credits` (402 when spent), 24-hour posting caps with their own headers,
`x-access-level` on user-context answers (a `read` token cannot post), fields only when
requested, and failures `after=True` that strike once X has accepted the request.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from bot.clock import Clock
from bot.platforms.x.ids import SEARCH_WINDOW, snowflake_at
from bot.platforms.x.pricing import APP_POSTS_PER_24H, USER_POSTS_PER_24H, create_price
from bot.platforms.x.text import MAX_WEIGHTED, weighted_length
from bot.testing.fake_x_query import (
    KNOWN_TWEET_FIELDS,
    FakeUser,
    as_posted,
    includes,
    invalid,
    iso,
    matches,
    not_found,
    parse_query,
    problem,
    shape,
)
from bot.testing.fake_x_rules import (
    NO_SEARCH_453,
    Failure,
    Ledger,
    PostCaps,
    Window,
    auth_kind,
    endpoint_of,
    no_search,
    read_only,
    tokens_in,
    window_refusal,
)
from bot.testing.http import FakeService

__all__ = ["DUPLICATE_DETAIL", "NO_SEARCH_453", "FakeXServer", "FakeUser", "RecordedRequest"]

log = logging.getLogger(__name__)

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
_ENDPOINT_LIMITS: dict[str, tuple[int, float]] = {
    # endpoint key: (requests per window, window seconds), X's published defaults.
    "search": (450, 900.0),
    "post": (200, 900.0),
    "me": (75, 900.0),
    "hidden": (50, 900.0),
}


@dataclass
class RecordedRequest:
    """One request the server saw; `auth` is the kind of Authorization header sent."""

    method: str
    path: str
    query: Mapping[str, str]
    auth: Literal["bearer", "oauth1", "other", None]
    status: int = 0


class FakeXServer(FakeService):
    """The fake server and its control API. Use as `async with FakeXServer() as server`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        me: str = "tweetchat_host",
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        credits: float | None = None,
        posts_per_24h: tuple[int, int] = (USER_POSTS_PER_24H, APP_POSTS_PER_24H),
    ) -> None:
        super().__init__()
        self.clock = clock or Clock()
        self.users: dict[str, FakeUser] = {}  # by id
        self._by_handle: dict[str, FakeUser] = {}
        self._last_id = 0
        self.me = self._user(me)
        self.tweets: list[dict[str, Any]] = []  # every tweet, crowd and posted, in id order
        self.posted: list[dict[str, Any]] = []  # only the tweets created through POST /2/tweets
        self.hidden: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.search_forbidden = False
        self.search_forbidden_style: Literal["453", "client-not-enrolled"] = "453"
        self.invalid_tokens: set[str] = set()  # tokens answered with 401 (a revoked key)
        self.access_level: Literal["read", "read-write", "read-write-directmessages"] = (
            "read-write"
        )
        self.ledger = Ledger(credits)  # pay-per-use credits in US dollars; None: unlimited
        self._by_id: dict[str, dict[str, Any]] = {}
        self._failures: list[Failure] = []
        self._slow: list[tuple[float, str | None, bool]] = []
        limits = dict(_ENDPOINT_LIMITS, **(rate_limits or {}))
        self._windows = {k: Window(limit=n, seconds=s) for k, (n, s) in limits.items()}
        self.caps = PostCaps(*posts_per_24h)
        self._page_tokens: dict[str, int] = {}  # next_token -> "older than this id"

    # ----------------------------------------------------------------- lifecycle

    def application(self) -> web.Application:
        """The v2 endpoints the adapter uses, behind OAuth, limits and injected failures."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/2/tweets", self._create)
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_put("/2/tweets/{id}/hidden", self._hide)
        app.router.add_get("/2/users/me", self._me)
        return app

    # ----------------------------------------------------------------- control API

    def add_tweet(
        self,
        author: str,
        text: str,
        reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        created_at: datetime | None = None,
        likes: int = 0,
        edit_of: str | None = None,
    ) -> str:
        """A crowd member tweets (or edits `edit_of`: a new version); returns its id."""
        user = self._user(author)
        if retweet_of is not None:
            original = self._by_id[retweet_of]
            op = self.users[original["author_id"]]
            text = f"RT @{op.username}: {original['text']}"
        tweet = self._store(user, text, reply_to, quote_of, retweet_of, created_at, likes)
        if edit_of is not None:  # every version lists the whole history, oldest first
            tweet["edit_history_tweet_ids"] = [*self._by_id[edit_of]["edit_history_tweet_ids"],
                                               tweet["id"]]
        return str(tweet["id"])

    def like(self, tweet_id: str, count: int = 1) -> None:
        """Someone likes a tweet."""
        self._by_id[tweet_id]["public_metrics"]["like_count"] += count

    def fail_next(
        self,
        status: int = 500,
        count: int = 1,
        *,
        path: str | None = None,
        reset_in: float = 60.0,
        after: bool = False,
    ) -> None:
        """The next `count` requests (to paths starting with `path`, if given) fail with `status`.

        A 429 carries x-rate-limit-remaining 0 and a reset `reset_in` seconds ahead. With
        `after`, the request takes effect first (a post is created) and only the answer
        is the failure, as when X accepts a post and then a proxy times out.
        """
        self._failures.extend(Failure(status, path, reset_in, after) for _ in range(count))

    def slow_next(
        self, seconds: float, count: int = 1, *, path: str | None = None, after: bool = False
    ) -> None:
        """The next `count` requests wait `seconds` (real time) before being answered.

        With `after`, the request takes effect before the wait (the client may time out on a
        post that exists).
        """
        self._slow.extend((seconds, path, after) for _ in range(count))

    def searches(self) -> list[RecordedRequest]:
        """The search requests seen so far."""
        return [r for r in self.requests if r.path == "/2/tweets/search/recent"]

    def tweet(self, tweet_id: str) -> dict[str, Any]:
        """A stored tweet, whole."""
        return self._by_id[tweet_id]

    # ----------------------------------------------------------------- storage

    def _user(self, handle: str) -> FakeUser:
        key = handle.lstrip("@").lower()
        if key not in self._by_handle:
            uid = str(1_000_000 + len(self._by_handle) * 7919)
            user = FakeUser(uid, handle.lstrip("@"), handle.lstrip("@").replace("_", " ").title())
            self._by_handle[key] = user
            self.users[uid] = user
        return self._by_handle[key]

    def _next_id(self, created: datetime) -> str:
        # Snowflakes: the creation time is in the id, and ids only ever grow.
        self._last_id = max(self._last_id + 1, snowflake_at(created))
        return str(self._last_id)

    def _store(
        self,
        user: FakeUser,
        text: str,
        reply_to: str | None,
        quote_of: str | None,
        retweet_of: str | None,
        created_at: datetime | None,
        likes: int = 0,
    ) -> dict[str, Any]:
        created = created_at or self.clock.now()
        tid = self._next_id(created)
        refs: list[dict[str, str]] = []
        tweet: dict[str, Any] = {
            "id": tid,
            **as_posted(text),
            "edit_history_tweet_ids": [tid],
            "author_id": user.id,
            "conversation_id": tid,
            "created_at": iso(created),
            "lang": "en",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": likes,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
        }
        if reply_to is not None:
            parent = self._by_id[reply_to]
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            parent["public_metrics"]["reply_count"] += 1
            refs.append({"type": "replied_to", "id": reply_to})
        if quote_of is not None:
            self._by_id[quote_of]["public_metrics"]["quote_count"] += 1
            refs.append({"type": "quoted", "id": quote_of})
        if retweet_of is not None:
            self._by_id[retweet_of]["public_metrics"]["retweet_count"] += 1
            refs.append({"type": "retweeted", "id": retweet_of})
        if refs:
            tweet["referenced_tweets"] = refs
        self.tweets.append(tweet)
        self._by_id[tid] = tweet
        return tweet

    # ----------------------------------------------------------------- plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        record = RecordedRequest(
            request.method, request.path, dict(request.query), auth_kind(header)
        )
        self.requests.append(record)
        key = endpoint_of(request.path)
        window = self._windows[key].roll(self.clock.now())

        slow_after = 0.0
        for i, (seconds, path, after) in enumerate(self._slow):
            if path is None or request.path.startswith(path):
                del self._slow[i]
                if after:
                    slow_after = seconds
                else:
                    await asyncio.sleep(seconds)
                break

        response, after_failure = self._precheck(request, record, window, key)
        if response is None:
            window.remaining = max(0, window.remaining - 1)
            response = await handler(request)
            if after_failure is not None:
                response = self._failure(after_failure, window)
        if slow_after:
            await asyncio.sleep(slow_after)
        response.headers["x-rate-limit-limit"] = str(window.limit)
        response.headers["x-rate-limit-remaining"] = str(window.remaining)
        response.headers["x-rate-limit-reset"] = str(int(window.reset))
        if record.auth == "oauth1":
            response.headers["x-access-level"] = self.access_level
        if key == "post":
            self.caps.headers(self.clock.now(), response.headers)
        record.status = response.status
        return response

    def _precheck(
        self, request: web.Request, record: RecordedRequest, window: Window, key: str
    ) -> tuple[web.Response | None, Failure | None]:
        """Auth, injected failures, credits and rate limits, in the order X applies them."""
        unauthorized = web.json_response(problem(401, "Unauthorized", "Unauthorized"), status=401)
        if record.auth is None or record.auth == "other":
            return unauthorized, None
        if tokens_in(request.headers["Authorization"]) & self.invalid_tokens:
            return unauthorized, None
        if key != "search" and record.auth != "oauth1":
            detail = (
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint."
                "  Supported authentication types are [OAuth 1.0a User Context,"
                " OAuth 2.0 User Context]."
            )
            type_ = "https://api.twitter.com/2/problems/unsupported-authentication"
            body = problem(403, "Unsupported Authentication", detail, type_)
            return web.json_response(body, status=403), None
        if key == "search" and record.auth != "bearer":
            # The adapter searches with the app's bearer token; OAuth1 here is a bug in it.
            body = problem(403, "Forbidden", "fake X expects app-only bearer auth for search")
            return web.json_response(body, status=403), None
        for i, failure in enumerate(self._failures):
            if failure.path is None or request.path.startswith(failure.path):
                del self._failures[i]
                if failure.after:
                    return None, failure
                return self._failure(failure, window), None
        depleted = self.ledger.depleted()
        if depleted is not None:
            return depleted, None
        too_many = web.json_response(
            problem(429, "Too Many Requests", "Too Many Requests"), status=429
        )
        if window.remaining <= 0:
            return too_many, None
        if key == "post" and request.method == "POST" and self.caps.exhausted(self.clock.now()):
            return too_many, None  # x-rate-limit-reset says 15 minutes; the 24 h cap holds
        if key == "search" and self.search_forbidden:
            return no_search(self.search_forbidden_style), None
        return None, None

    def _failure(self, failure: Failure, window: Window) -> web.Response:
        if failure.status == 429:
            window.remaining = 0
            window.reset = self.clock.now().timestamp() + failure.reset_in
            return web.json_response(
                problem(429, "Too Many Requests", "Too Many Requests"), status=429
            )
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        title = titles.get(failure.status, "Error")
        return web.json_response(problem(failure.status, title, title), status=failure.status)

    # ----------------------------------------------------------------- endpoints

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.me.as_json()})

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return invalid("body", "Request body is not valid JSON.")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return invalid("text", "text must be a non-empty string.")
        if weighted_length(text) > MAX_WEIGHTED:
            return invalid(
                "text",
                "Your Tweet text is too long. For more information on how X determines text "
                "length see https://github.com/twitter/twitter-text.",
            )
        if self.access_level == "read":
            return read_only()
        if any(t["author_id"] == self.me.id and t["text"] == as_posted(text)["text"]
               for t in self.tweets):
            return web.json_response(problem(403, "Forbidden", DUPLICATE_DETAIL), status=403)
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and str(reply_to) not in self._by_id:
            detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
            return web.json_response(problem(403, "Forbidden", detail), status=403)
        quote = body.get("quote_tweet_id")
        tweet = self._store(
            self.me,
            text,
            str(reply_to) if reply_to else None,
            str(quote) if quote else None,
            None,
            None,
        )
        self.posted.append(tweet)
        self.ledger.charge(create_price(text))
        self.caps.spend()
        data = {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}
        return web.json_response({"data": data}, status=201)

    async def _hide(self, request: web.Request) -> web.Response:
        tid = request.match_info["id"]
        try:
            hidden = bool((await request.json())["hidden"])
        except (ValueError, KeyError, TypeError):
            return invalid("hidden", "hidden must be true or false.")
        tweet = self._by_id.get(tid)
        if tweet is None:
            return web.json_response(not_found(tid), status=404)
        root = self._by_id.get(tweet["conversation_id"])
        if tweet["conversation_id"] == tid or root is None or root["author_id"] != self.me.id:
            detail = "You can only hide or unhide replies to conversations you authored."
            return web.json_response(problem(403, "Forbidden", detail), status=403)
        (self.hidden.add if hidden else self.hidden.discard)(tid)
        return web.json_response({"data": {"hidden": hidden}})

    async def _search(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            parsed = parse_query(q.get("query", ""))
            max_results = int(q.get("max_results", "10"))
        except ValueError as e:
            return invalid("query", str(e))
        if not 10 <= max_results <= 100:
            return invalid(
                "max_results",
                f"The `max_results` query parameter value [{max_results}] is not between 10 "
                "and 100",
            )
        fields = [f for f in q.get("tweet.fields", "").split(",") if f]
        unknown = [f for f in fields if f not in KNOWN_TWEET_FIELDS]
        if unknown:
            return invalid("tweet.fields", f"The `tweet.fields` value [{unknown[0]}] is unknown")
        refusal = window_refusal(q, self.clock.now())
        if refusal is not None:
            return refusal
        since = int(q["since_id"]) if "since_id" in q else None
        until = int(q["until_id"]) if "until_id" in q else None
        if "next_token" in q:
            if q["next_token"] not in self._page_tokens:
                return invalid("next_token", "The `next_token` query parameter is invalid.")
            older = self._page_tokens[q["next_token"]]
            until = older if until is None else min(until, older)
        oldest = iso(self.clock.now() - SEARCH_WINDOW)
        start_time = q.get("start_time")
        found = [
            t
            for t in reversed(self.tweets)  # newest first, as X returns them
            if t["created_at"] >= oldest  # recent search: the last 7 days only
            and (since is None or int(t["id"]) > since)
            and (until is None or int(t["id"]) < until)
            and (start_time is None or t["created_at"] >= start_time.replace("Z", ".000Z"))
            and matches(parsed, t, self.users)
        ]
        page, rest = found[:max_results], found[max_results:]
        self.ledger.charge_reads([t["id"] for t in page], self.clock.now())
        expansions = {e for e in q.get("expansions", "").split(",") if e}
        body: dict[str, Any] = {}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            body["data"] = [shape(t, fields) for t in page]
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
            extra = includes(page, fields, expansions, self._by_id, self.users,
                             frozenset(q.get("user.fields", "").split(",")))
            if extra:
                body["includes"] = extra
        if rest:
            token = secrets.token_hex(12)
            self._page_tokens[token] = int(page[-1]["id"])
            meta["next_token"] = token
        body["meta"] = meta
        return web.json_response(body)
