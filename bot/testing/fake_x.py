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
GET /2/users/me. Search understands the operators the adapter sends (`#tag`,
`conversation_id:N`, `from:handle`, `is:retweet|reply|quote` and their negations, plain
words); anything else is refused with a 400 like X would, so a query the fake cannot
answer never silently returns nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import unquote

from aiohttp import web

from bot.clock import Clock
from bot.platforms.x.text import MAX_WEIGHTED, weighted_length
from bot.testing.fake_x_query import (
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

log = logging.getLogger(__name__)

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
NO_SEARCH_453 = (
    "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints "
    "(e.g. media post, oauth) only. If you need access to this endpoint, you may need a "
    "different access level. You can learn more here: https://developer.x.com/en/portal/product"
)
# Snowflake-looking ids: big, increasing, strings on the wire.
_FIRST_ID = 1_876_543_210_000_000_000
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


@dataclass
class _Failure:
    status: int
    path: str | None
    reset_in: float


@dataclass
class _Window:
    limit: int
    seconds: float
    remaining: int = 0
    reset: float = 0.0


class FakeXServer:
    """The fake server and its control API. Use as `async with FakeXServer() as server`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        me: str = "tweetchat_host",
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.users: dict[str, FakeUser] = {}  # by id
        self._by_handle: dict[str, FakeUser] = {}
        self._ids = itertools.count(_FIRST_ID, 1_000)
        self.me = self._user(me)
        self.tweets: list[dict[str, Any]] = []  # every tweet, crowd and posted, in id order
        self.posted: list[dict[str, Any]] = []  # only the tweets created through POST /2/tweets
        self.hidden: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.search_forbidden = False
        self.search_forbidden_style: Literal["453", "client-not-enrolled"] = "453"
        self.invalid_tokens: set[str] = set()  # tokens answered with 401 (a revoked key)
        self._by_id: dict[str, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        self._slow: list[tuple[float, str | None]] = []
        limits = dict(_ENDPOINT_LIMITS, **(rate_limits or {}))
        self._windows = {k: _Window(limit=n, seconds=s) for k, (n, s) in limits.items()}
        self._page_tokens: dict[str, int] = {}  # next_token -> "older than this id"
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeXServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/2/tweets", self._create)
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_put("/2/tweets/{id}/hidden", self._hide)
        app.router.add_get("/2/users/me", self._me)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        self._by_id[tweet_id]["public_metrics"]["like_count"] += count

    def fail_next(
        self, status: int = 500, count: int = 1, *, path: str | None = None, reset_in: float = 60.0
    ) -> None:
        """The next `count` requests (to paths starting with `path`, if given) fail with `status`.

        A 429 carries x-rate-limit-remaining 0 and a reset `reset_in` seconds ahead.
        """
        self._failures.extend(_Failure(status, path, reset_in) for _ in range(count))

    def slow_next(self, seconds: float, count: int = 1, *, path: str | None = None) -> None:
        """The next `count` requests wait `seconds` (real time) before being answered."""
        self._slow.extend((seconds, path) for _ in range(count))

    def searches(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/2/tweets/search/recent"]

    # ----------------------------------------------------------------- storage

    def _user(self, handle: str) -> FakeUser:
        key = handle.lstrip("@").lower()
        if key not in self._by_handle:
            uid = str(1_000_000 + len(self._by_handle) * 7919)
            user = FakeUser(uid, handle.lstrip("@"), handle.lstrip("@").replace("_", " ").title())
            self._by_handle[key] = user
            self.users[uid] = user
        return self._by_handle[key]

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
        tid = str(next(self._ids))
        refs: list[dict[str, str]] = []
        tweet: dict[str, Any] = {
            "id": tid,
            **as_posted(text),
            "edit_history_tweet_ids": [tid],
            "author_id": user.id,
            "conversation_id": tid,
            "created_at": iso(created_at or self.clock.now()),
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

    def _window(self, key: str) -> _Window:
        w = self._windows[key]
        now = self.clock.now().timestamp()
        if now >= w.reset:
            w.remaining = w.limit
            w.reset = now + w.seconds
        return w

    @staticmethod
    def _endpoint(request: web.Request) -> str:
        path = request.path
        if path.startswith("/2/tweets/search"):
            return "search"
        if path.endswith("/hidden"):
            return "hidden"
        if path == "/2/users/me":
            return "me"
        return "post"

    @staticmethod
    def _auth_kind(header: str) -> Literal["bearer", "oauth1", "other", None]:
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return "bearer"
        if scheme == "OAuth" and "oauth_consumer_key=" in value and "oauth_signature=" in value:
            return "oauth1"
        return "other"

    def _tokens(self, header: str) -> set[str]:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return {value.strip()}
        found = re.findall(r'oauth_(?:consumer_key|token)="([^"]*)"', value)
        return {unquote(v) for v in found}

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        record = RecordedRequest(
            request.method, request.path, dict(request.query), self._auth_kind(header)
        )
        self.requests.append(record)
        key = self._endpoint(request)
        window = self._window(key)

        for i, (seconds, path) in enumerate(self._slow):
            if path is None or request.path.startswith(path):
                del self._slow[i]
                await asyncio.sleep(seconds)
                break

        response = self._precheck(request, record, window, key)
        if response is None:
            window.remaining = max(0, window.remaining - 1)
            response = await handler(request)
        response.headers["x-rate-limit-limit"] = str(window.limit)
        response.headers["x-rate-limit-remaining"] = str(window.remaining)
        response.headers["x-rate-limit-reset"] = str(int(window.reset))
        record.status = response.status
        return response

    def _precheck(
        self, request: web.Request, record: RecordedRequest, window: _Window, key: str
    ) -> web.Response | None:
        """Auth, injected failures and the rate limit, in the order X applies them."""
        if record.auth is None or record.auth == "other":
            return web.json_response(problem(401, "Unauthorized", "Unauthorized"), status=401)
        header = request.headers["Authorization"]
        if self._tokens(header) & self.invalid_tokens:
            return web.json_response(problem(401, "Unauthorized", "Unauthorized"), status=401)
        if key != "search" and record.auth != "oauth1":
            detail = (
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint."
                "  Supported authentication types are [OAuth 1.0a User Context,"
                " OAuth 2.0 User Context]."
            )
            return web.json_response(
                problem(
                    403,
                    "Unsupported Authentication",
                    detail,
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                ),
                status=403,
            )
        if key == "search" and record.auth != "bearer":
            # The adapter searches with the app's bearer token; OAuth1 here is a bug in it.
            return web.json_response(
                problem(403, "Forbidden", "fake X expects app-only bearer auth for search"),
                status=403,
            )
        for i, failure in enumerate(self._failures):
            if failure.path is None or request.path.startswith(failure.path):
                del self._failures[i]
                return self._failure(failure, window)
        if window.remaining <= 0:
            return web.json_response(
                problem(429, "Too Many Requests", "Too Many Requests"), status=429
            )
        if key == "search" and self.search_forbidden:
            return self._no_search()
        return None

    def _failure(self, failure: _Failure, window: _Window) -> web.Response:
        if failure.status == 429:
            window.remaining = 0
            window.reset = self.clock.now().timestamp() + failure.reset_in
            return web.json_response(
                problem(429, "Too Many Requests", "Too Many Requests"), status=429
            )
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        title = titles.get(failure.status, "Error")
        return web.json_response(problem(failure.status, title, title), status=failure.status)

    def _no_search(self) -> web.Response:
        body: dict[str, Any]
        if self.search_forbidden_style == "client-not-enrolled":
            body = {
                "client_id": "29000000",
                "detail": (
                    "When authenticating requests to the Twitter API v2 endpoints, you must use "
                    "keys and tokens from a Twitter developer App that is attached to a Project. "
                    "You can create a project via the developer portal."
                ),
                "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                "title": "Client Forbidden",
                "required_enrollment": "Appropriate Level of API Access",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            }
        else:
            body = {"errors": [{"message": NO_SEARCH_453, "code": 453}]}
        return web.json_response(body, status=403)

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
        query = q.get("query", "")
        try:
            parsed = parse_query(query)
            max_results = int(q.get("max_results", "10"))
        except ValueError as e:
            return invalid("query", str(e))
        if not 10 <= max_results <= 100:
            return invalid(
                "max_results",
                f"The `max_results` query parameter value [{max_results}] is not between 10 "
                "and 100",
            )
        since = int(q["since_id"]) if "since_id" in q else None
        until = int(q["until_id"]) if "until_id" in q else None
        if "next_token" in q:
            if q["next_token"] not in self._page_tokens:
                return invalid("next_token", "The `next_token` query parameter is invalid.")
            older = self._page_tokens[q["next_token"]]
            until = older if until is None else min(until, older)
        start_time = q.get("start_time")
        hits = [
            t
            for t in reversed(self.tweets)  # newest first, as X returns them
            if (since is None or int(t["id"]) > since)
            and (until is None or int(t["id"]) < until)
            and (start_time is None or t["created_at"] >= start_time.replace("Z", ".000Z"))
            and matches(parsed, t, self.users)
        ]
        page, rest = hits[:max_results], hits[max_results:]
        fields = [f for f in q.get("tweet.fields", "").split(",") if f]
        expansions = {e for e in q.get("expansions", "").split(",") if e}
        body: dict[str, Any] = {}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            body["data"] = [shape(t, fields) for t in page]
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
            extra = includes(page, fields, expansions, self._by_id, self.users)
            if extra:
                body["includes"] = extra
        if rest:
            token = secrets.token_hex(12)
            self._page_tokens[token] = int(page[-1]["id"])
            meta["next_token"] = token
        body["meta"] = meta
        return web.json_response(body)
