"""The HTTP side of the Mastodon adapter: Mastodon.py, pointed at the configured instance.

Its blocking calls run one at a time off the event loop, its errors turned into ours.

Mastodon.py turns JSON into its own entity classes (dates parsed, fields renamed). The
archive keeps what the instance sent, so a `requests` response hook on the session keeps
each answer's body and headers verbatim; the adapter reads those, and Mastodon.py does the
auth, the request building and the error mapping. Rate limits are thrown, never slept on
inside the library (`ratelimit_method="throw"`): waiting happens on the adapter's clock.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from mastodon import Mastodon
from mastodon import errors as mx

from bot.clock import Clock
from bot.platforms.base import PlatformError, PlatformSetupError
from bot.platforms.mastodon.streaming import HashtagStream, streaming_base
from bot.platforms.polling import RateLimited, Transient

log = logging.getLogger(__name__)

MAX_BODY = 8 << 20  # an answer bigger than this is refused, not parsed
_LINK_MIN_ID = re.compile(r"<[^>]*[?&]min_id=(\d+)[^>]*>;\s*rel=\"prev\"")


class NotFound(PlatformError):
    """A 404: the status (or account) is gone."""


def _reset(response: requests.Response | None) -> float | None:
    """X-RateLimit-Reset (an ISO time) as epoch seconds, when the instance sent it."""
    value = response.headers.get("X-RateLimit-Reset", "") if response is not None else ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class MastodonCredentials:
    """Instance URL and access token. Never logged: repr shows only which are present."""

    api_base_url: str | None = None
    access_token: str | None = None

    def missing(self) -> list[str]:
        """The names of the credentials that are not set."""
        names = {"MASTODON_API_BASE_URL": self.api_base_url,
                 "MASTODON_ACCESS_TOKEN": self.access_token}
        return [k for k, v in names.items() if not (v and v.strip())]

    def __repr__(self) -> str:
        return f"MastodonCredentials(<hidden>, missing={self.missing()})"


@dataclass(frozen=True)
class InstanceLimits:
    """What the instance allows in one status (/api/v2/instance configuration.statuses)."""

    max_characters: int = 500
    characters_reserved_per_url: int = 23
    version: str = ""
    domain: str = ""
    streaming: str = ""  # configuration.urls.streaming: where the streaming server listens


@dataclass(frozen=True)
class MastodonAccountReport:
    """What `tweetchat mastodon check` prints."""

    account_id: str
    acct: str
    name: str
    instance: str
    limits: InstanceLimits
    can_read_tag: bool
    detail: str
    can_stream: bool = False  # the hashtag stream answers this token (else polling)
    stream_detail: str = ""


@dataclass(frozen=True)
class Answer:
    """One API answer as the instance sent it."""

    body: Any
    link: str


class MastodonClient:
    """One account on one instance.

    Every call returns the JSON body (an `Answer`) or raises PlatformError (RateLimited /
    Transient / NotFound for what the caller may handle).
    """

    def __init__(self, credentials: MastodonCredentials, *, timeout: float = 20.0,
                 clock: Clock | None = None) -> None:
        self.credentials = credentials
        self.timeout = timeout
        self.clock = clock or Clock()
        self._api: Mastodon | None = None
        self._last: requests.Response | None = None
        self.remaining: int | None = None  # X-RateLimit-Remaining of the last answer
        self.reset: float | None = None  # X-RateLimit-Reset, as epoch seconds
        self._lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        """The instance's base URL without a trailing slash."""
        return (self.credentials.api_base_url or "").rstrip("/")

    def open(self) -> None:
        """Make the Mastodon.py client; PlatformSetupError when credentials are missing."""
        missing = self.credentials.missing()
        if missing:
            them = "it" if len(missing) == 1 else "them"
            raise PlatformSetupError(
                f"Mastodon: {', '.join(missing)} not set; add {them} to .env (an access token "
                "from Preferences > Development > New application; see docs/mastodon.md), "
                "then run `tweetchat mastodon check`")
        session = requests.Session()
        session.hooks["response"].append(self._keep)
        self._api = Mastodon(access_token=self.credentials.access_token,
                             api_base_url=self.base_url, ratelimit_method="throw",
                             request_timeout=self.timeout, version_check_mode="none",
                             session=session)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response

    def close(self) -> None:
        """Drop the client."""
        self._api = None

    @property
    def api(self) -> Mastodon:
        """The Mastodon.py client; PlatformError when not started."""
        if self._api is None:
            raise PlatformError("the Mastodon adapter is not started (call start() first)",
                                retryable=False)
        return self._api

    async def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
                   ) -> Answer:
        """Run one Mastodon.py call in a worker thread; return what the instance sent."""
        self.api  # noqa: B018 - the plain "not started" error first
        async with self._lock:  # one call at a time: `_last` belongs to it
            try:
                await asyncio.to_thread(fn, *args, **kwargs)
            except mx.MastodonRatelimitError as e:
                raise RateLimited(f"Mastodon rate limit reached while {what}",
                                  _reset(self._last)) from e
            except mx.MastodonNotFoundError as e:
                raise NotFound(f"Mastodon: not found while {what}", retryable=False) from e
            except mx.MastodonUnauthorizedError as e:
                raise PlatformError(f"Mastodon rejected the access token while {what}; run "
                                    "`tweetchat mastodon check`", retryable=False) from e
            except (mx.MastodonServerError, mx.MastodonNetworkError) as e:
                reason = e.args[0] if e.args else type(e).__name__
                raise Transient(f"no good answer from Mastodon while {what} ({reason})") from e
            except mx.MastodonAPIError as e:
                detail = e.args[-1] if e.args else e
                raise PlatformError(f"Mastodon refused {what}: {detail}", retryable=False) from e
            response, self._last = self._last, None
        if response is None:
            raise Transient(f"Mastodon sent no answer while {what}")
        if len(response.content) > MAX_BODY:
            raise PlatformError(f"Mastodon's answer while {what} is over {MAX_BODY} bytes",
                                retryable=False)
        try:
            self.remaining = int(response.headers["X-RateLimit-Remaining"])
            self.reset = _reset(response)
        except (KeyError, ValueError):
            pass
        try:
            body = response.json()
        except ValueError as e:
            raise Transient(f"Mastodon's answer while {what} is not JSON") from e
        return Answer(body, response.headers.get("Link", ""))

    # ----------------------------------------------------------------- calls

    async def verify(self) -> dict[str, Any]:
        """The token's account (verify_credentials)."""
        body = (await self.call("checking the account", self.api.account_verify_credentials)).body
        if not isinstance(body, dict) or "id" not in body:
            raise PlatformError("Mastodon: verify_credentials sent no account", retryable=False)
        return body

    async def limits(self) -> InstanceLimits:
        """The instance's status limits; the defaults (500, 23) when it does not say."""
        try:
            body = (await self.call("reading the instance", self.api.instance_v2)).body
        except PlatformError as e:
            log.warning("Mastodon: /api/v2/instance unavailable (%s); using 500/23", e)
            return InstanceLimits()
        if not isinstance(body, dict):
            body = {}
        config: dict[str, Any] = _object(body.get("configuration"))
        statuses: dict[str, Any] = _object(config.get("statuses"))

        def number(key: str, default: int) -> int:
            value = statuses.get(key)
            return value if isinstance(value, int) and 0 < value < 1_000_000 else default

        streaming = _object(config.get("urls")).get("streaming")
        return InstanceLimits(number("max_characters", 500),
                              number("characters_reserved_per_url", 23),
                              str(body.get("version", ""))[:40], str(body.get("domain", ""))[:200],
                              streaming[:500] if isinstance(streaming, str) else "")

    async def post(self, text: str, *, reply_to: str | None, visibility: str, spoiler: str,
                   key: str) -> dict[str, Any]:
        """Post a status (idempotent by `key`); its JSON."""
        body = (await self.call("posting", self.api.status_post, text, in_reply_to_id=reply_to,
                                visibility=visibility, spoiler_text=spoiler or None,
                                idempotency_key=key, language="en")).body
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise Transient("Mastodon answered the post with no status id")
        return body

    async def tag_page(self, tag: str, min_id: str | None, limit: int) -> tuple[list[Any], str]:
        """One page of the hashtag timeline just above `min_id` (newest first).

        Also the min_id of the page after it (from the Link header's rel="prev"), or "".
        """
        answer = await self.call("reading the hashtag timeline", self.api.timeline_hashtag,
                                 tag, min_id=min_id, limit=limit)
        statuses = answer.body if isinstance(answer.body, list) else []
        match = _LINK_MIN_ID.search(answer.link)
        return statuses, match.group(1) if match else ""

    async def context(self, status_id: str) -> dict[str, Any] | None:
        """A status's ancestors and descendants, or None when it is gone."""
        try:
            body = (await self.call("reading a thread", self.api.status_context, status_id)).body
        except NotFound:
            return None
        return body if isinstance(body, dict) else None

    async def status(self, status_id: str) -> dict[str, Any] | None:
        """One status, or None when it is gone."""
        try:
            body = (await self.call("reading a status", self.api.status, status_id)).body
        except NotFound:
            return None
        return body if isinstance(body, dict) else None

    async def account_statuses(self, account_id: str, max_id: str | None) -> list[Any]:
        """One page of an account's own statuses (newest first), below `max_id`."""
        body = (await self.call("reading the account's statuses", self.api.account_statuses,
                                account_id, max_id=max_id, limit=40)).body
        return body if isinstance(body, list) else []

    async def delete(self, status_id: str) -> None:
        """Delete one of the account's own statuses."""
        await self.call("deleting a status", self.api.status_delete, status_id)

    async def report(self, account_id: str, status_id: str | None, comment: str) -> None:
        """Report an account (and a status of theirs) to the instance's moderators."""
        await self.call("reporting", self.api.report, account_id,
                        status_ids=[status_id] if status_id else None, comment=comment[:1000],
                        forward=False, category="other")

    async def mute(self, account_id: str, seconds: int | None) -> None:
        """Mute an account, for `seconds` or for ever."""
        await self.call("muting", self.api.account_mute, account_id, duration=seconds)

    async def block(self, account_id: str) -> None:
        """Block an account."""
        await self.call("blocking", self.api.account_block, account_id)


async def check_credentials(credentials: MastodonCredentials, *, hashtag: str = "",
                            clock: Clock | None = None) -> MastodonAccountReport:
    """For `tweetchat mastodon check`: who the token posts as, and the instance's limits.

    Also whether the hashtag timeline can be read.
    """
    client = MastodonClient(credentials, clock=clock)
    client.open()
    try:
        me = await client.verify()
    except PlatformError as e:
        raise PlatformSetupError(f"Mastodon: {e}") from e
    limits = await client.limits()
    tag = hashtag.strip().lstrip("#") or "mastodon"
    try:
        await client.tag_page(tag, None, 1)
        ok, detail = True, f"the #{tag} timeline answers"
    except PlatformError as e:
        ok, detail = False, str(e)
    stream = HashtagStream(client.clock)
    try:
        await stream.open(streaming_base(client.base_url, limits.streaming),
                          credentials.access_token or "", tag, timeout=client.timeout)
        can_stream, stream_detail = True, f"#{tag} streams live (server-sent events)"
    except PlatformError as e:
        can_stream, stream_detail = False, f"{e}: the bot polls instead"
    finally:
        await stream.close()
    client.close()
    return MastodonAccountReport(str(me["id"]), str(me.get("acct", "")),
                                 str(me.get("display_name") or me.get("username", "")),
                                 client.base_url, limits, ok, detail, can_stream, stream_detail)
