"""The fake X server's production rules, apart from its endpoints.

The 7-day search window, pay-per-use credits, 24-hour posting caps and the
access-level refusals.

Each rule is what X does today (docs.x.com: recent search, rate limits, pricing), so an
adapter that passes the fake does not meet it for the first time in production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote

from aiohttp import web

from bot.platforms.x.ids import SEARCH_WINDOW, snowflake_time
from bot.platforms.x.pricing import APP_POSTS_PER_24H, READ_POST_USD, USER_POSTS_PER_24H
from bot.testing.fake_x_query import invalid, iso, problem

NO_SEARCH_453 = (
    "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints "
    "(e.g. media post, oauth) only. If you need access to this endpoint, you may need a "
    "different access level. You can learn more here: https://developer.x.com/en/portal/product"
)
READ_ONLY_DETAIL = (
    "Your client app is not configured with the appropriate oauth1 app permissions for "
    "this endpoint."
)
CREDITS_DETAIL = "Your enrolled account does not have any credits to fulfill this request."


@dataclass
class Window:
    """A rate-limit window: `limit` requests per `seconds`, reset at `reset` (epoch)."""

    limit: int
    seconds: float
    remaining: int = 0
    reset: float = 0.0

    def roll(self, now: datetime) -> Window:
        """Start a new window if the last one is over."""
        ts = now.timestamp()
        if ts >= self.reset:
            self.remaining = self.limit
            self.reset = ts + self.seconds
        return self


@dataclass
class Failure:
    """An injected failure; with `after`, the request takes effect before it fails."""

    status: int
    path: str | None
    reset_in: float
    after: bool = False


def window_refusal(q: Mapping[str, str], now: datetime) -> web.Response | None:
    """X's 400s for since_id/until_id/start_time outside recent search's 7 days."""
    edge = now - SEARCH_WINDOW
    if ("since_id" in q or "until_id" in q) and ("start_time" in q or "end_time" in q):
        return invalid(
            "since_id",
            "Invalid use of 'since_id' or 'until_id' in conjunction with 'start_time' "
            "or 'end_time'.",
        )
    for name in ("since_id", "until_id"):
        if name not in q:
            continue
        try:
            when = snowflake_time(q[name])
        except ValueError:
            return invalid(name, f"The `{name}` query parameter value is not valid.")
        if when < edge:
            return invalid(
                name,
                f"Invalid '{name}':'{q[name]}'. '{name}' must be a tweet id created "
                f"after {iso(edge)}. Please use a '{name}' that is newer.",
                q[name],
            )
    if "start_time" in q:
        try:
            start = datetime.fromisoformat(q["start_time"].replace("Z", "+00:00"))
        except ValueError:
            return invalid("start_time", "The `start_time` query parameter is not valid.")
        if start < edge:
            return invalid(
                "start_time",
                f"Invalid 'start_time':'{q['start_time']}'. 'start_time' must be on or "
                f"after {iso(edge)}",
                q["start_time"],
            )
    return None


def no_search(style: Literal["453", "client-not-enrolled"]) -> web.Response:
    """The 403 an access level without recent search gets (both shapes X has used)."""
    body: dict[str, Any]
    if style == "client-not-enrolled":
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


def read_only() -> web.Response:
    """A `read` access token trying to post."""
    type_ = "https://api.twitter.com/2/problems/oauth1-permissions"
    return web.json_response(problem(403, "Forbidden", READ_ONLY_DETAIL, type_), status=403)


@dataclass
class Ledger:
    """Pay-per-use credits in US dollars (None: unlimited) and what has been spent."""

    credits: float | None = None
    spent: float = 0.0
    read_today: set[tuple[str, str]] = field(default_factory=set)  # (UTC day, tweet id)

    def charge(self, usd: float) -> None:
        """Spend; X lets a balance dip slightly below zero, then blocks every call."""
        self.spent += usd
        if self.credits is not None:
            self.credits -= usd

    def charge_reads(self, tweet_ids: list[str], now: datetime) -> None:
        """Posts read are charged once per UTC day, however often they come back."""
        day = now.astimezone(UTC).date().isoformat()
        fresh = [(day, t) for t in tweet_ids if (day, t) not in self.read_today]
        self.read_today.update(fresh)
        if fresh:
            self.charge(len(fresh) * READ_POST_USD)

    def depleted(self) -> web.Response | None:
        """The 402 every call gets once the credits are gone."""
        if self.credits is None or self.credits > 0:
            return None
        body = {"title": "CreditsDepleted", "detail": CREDITS_DETAIL,
                "type": "https://api.twitter.com/2/problems/credits"}
        return web.json_response(body, status=402)


class PostCaps:
    """The 24-hour posting caps, per user and per app, with their own headers."""

    def __init__(self, per_user: int = USER_POSTS_PER_24H, per_app: int = APP_POSTS_PER_24H):
        self.windows = {
            "user": Window(limit=per_user, seconds=86_400.0),
            "app": Window(limit=per_app, seconds=86_400.0),
        }

    def exhausted(self, now: datetime) -> bool:
        """Whether either cap is spent (X then answers 429)."""
        return any(w.roll(now).remaining <= 0 for w in self.windows.values())

    def spend(self) -> None:
        """One post went out."""
        for w in self.windows.values():
            w.remaining = max(0, w.remaining - 1)

    def headers(self, now: datetime, out: MutableMapping[str, str]) -> None:
        """x-user-limit-24hour-* and x-app-limit-24hour-*, as on X's POST /2/tweets."""
        for scope, w in self.windows.items():
            w.roll(now)
            out[f"x-{scope}-limit-24hour-limit"] = str(w.limit)
            out[f"x-{scope}-limit-24hour-remaining"] = str(w.remaining)
            out[f"x-{scope}-limit-24hour-reset"] = str(int(w.reset))


def endpoint_of(path: str) -> str:
    """Which rate-limit window a path counts against."""
    if path.startswith("/2/tweets/search"):
        return "search"
    if path.endswith("/hidden"):
        return "hidden"
    if path == "/2/users/me":
        return "me"
    return "post"


def auth_kind(header: str) -> Literal["bearer", "oauth1", "other", None]:
    """The kind of Authorization header: app-only bearer, OAuth 1.0a user context, other."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "bearer"
    if scheme == "OAuth" and "oauth_consumer_key=" in value and "oauth_signature=" in value:
        return "oauth1"
    return "other"


def tokens_in(header: str) -> set[str]:
    """The credentials an Authorization header carries (to refuse revoked ones)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return {value.strip()}
    found = re.findall(r'oauth_(?:consumer_key|token)="([^"]*)"', value)
    return {unquote(v) for v in found}
