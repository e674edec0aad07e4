"""The HTTP side of the X adapter.

Credentials, log redaction, the redirected session, and one place where tweepy's
responses and errors become our own.

Pointing at another server: tweepy hard-codes https://api.twitter.com, so when the base URL
names something else (the fake server in tests and rehearsals) the client's aiohttp session
is wrapped to send the same requests there. With the default base URL nothing is wrapped
and tweepy runs exactly as shipped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient
from yarl import URL

from bot.clock import Clock
from bot.platforms.base import DuplicatePost, PlatformError, PlatformSetupError
from bot.platforms.polling import next_interval, reset_wait
from bot.platforms.x.errors import (
    CreditsSpent,
    DailyCapReached,
    RateLimited,
    Stopped,
    Transient,
    daily_cap_reset,
)

__all__ = ["CreditsSpent", "RateLimited", "Stopped", "Transient", "XClient", "XCredentials"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.x.com"
PRODUCTION_HOSTS = {"api.x.com", "api.twitter.com"}


@dataclass(frozen=True)
class XCredentials:
    """The five secrets. Never logged: repr shows only which ones are present."""

    api_key: str | None = None
    api_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    bearer_token: str | None = None

    def missing(self) -> list[str]:
        """The names of the keys that are not set."""
        names = {
            "X_API_KEY": self.api_key,
            "X_API_SECRET": self.api_secret,
            "X_ACCESS_TOKEN": self.access_token,
            "X_ACCESS_TOKEN_SECRET": self.access_token_secret,
            "X_BEARER_TOKEN": self.bearer_token,
        }
        return [name for name, value in names.items() if not (value and value.strip())]

    def values(self) -> list[str]:
        """Every key that is set (what the logs redact)."""
        return [
            v
            for v in (
                self.api_key,
                self.api_secret,
                self.access_token,
                self.access_token_secret,
                self.bearer_token,
            )
            if v
        ]

    @classmethod
    def from_secrets(cls, secrets: Any) -> XCredentials:
        """From settings.secrets (pydantic SecretStr fields, any of them may be None)."""

        def reveal(name: str) -> str | None:
            value = getattr(secrets, name, None)
            return value.get_secret_value() if value is not None else None

        return cls(
            reveal("x_api_key"),
            reveal("x_api_secret"),
            reveal("x_access_token"),
            reveal("x_access_token_secret"),
            reveal("x_bearer_token"),
        )

    def __repr__(self) -> str:
        return f"XCredentials(<hidden>, missing={self.missing()})"


@dataclass(frozen=True)
class Backoff:
    """How failed searches are retried."""

    base: float = 1.0
    cap: float = 300.0
    attempts: int = 5  # for a backfill; live polling retries for ever


@dataclass(frozen=True)
class XAccountReport:
    """What `tweetchat x check` prints."""

    user_id: str
    handle: str
    name: str
    can_search: bool
    search_detail: str
    access_level: str = ""  # x-access-level of the token: read, read-write, ...


class _RebasedSession:
    """An aiohttp session that sends tweepy's api.twitter.com requests to another base URL.

    tweepy only calls `request(...)` (as an async context manager) and never reads other
    session attributes, so this small wrapper is all the redirection needs. OAuth 1 is
    signed for the production URL before we rewrite it; the fake server accepts any
    signature, and the real API is never reached through this path.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base = URL(base_url)

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        target = url if isinstance(url, URL) else URL(url)
        if target.host in PRODUCTION_HOSTS:
            target = (
                target.with_scheme(self._base.scheme)
                .with_host(self._base.host or "127.0.0.1")
                .with_port(self._base.port)
            )
        return self._session.request(method, target, **kwargs)

    @property
    def closed(self) -> bool:
        return self._session.closed

    async def close(self) -> None:
        await self._session.close()


class _RedactSecrets(logging.Filter):
    """Blank out credentials in third-party debug logs.

    tweepy logs request headers (the bearer token, OAuth parameters) and oauthlib logs the
    consumer key and access token while signing. Both patterns and the exact values of
    every credential an adapter was given are replaced before any handler sees them.
    """

    _PATTERNS = (
        re.compile(r"(Bearer )[^\s'\"]+"),
        re.compile(r'(oauth_(?:consumer_key|token|signature)=")[^"]*'),
    )

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        redacted = message
        for pattern in self._PATTERNS:
            redacted = pattern.sub(r"\1<redacted>", redacted)
        for secret in self.secrets:
            redacted = redacted.replace(secret, "<redacted>")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = _RedactSecrets()
# Filters on a logger only see records logged to that very logger, so name each one.
_CHATTY_LOGGERS = ("tweepy.asynchronous.client", "tweepy.client", "oauthlib.oauth1.rfc5849")


def install_redaction(credentials: XCredentials) -> None:
    # Never blank out a stray short word.
    _REDACTOR.secrets.update(v for v in credentials.values() if len(v) >= 4)
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


def api_message(error: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in error.api_messages) or str(error).replace("\n", " ")


def as_float(value: Any, default: float) -> float:
    """A number from per-chat settings, which may arrive as text from YAML or TOML."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class XClient:
    """tweepy's AsyncClient on our own aiohttp session, plus the rate-limit state it reports.

    Every call goes through `send`, which returns the JSON body and headers or raises one of
    tweepy's 4xx exceptions (for the caller to judge), RateLimited or Transient.
    """

    def __init__(
        self,
        credentials: XCredentials,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 20.0,
        clock: Clock | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.clock = clock or Clock()
        self.remaining: int | None = None
        self.reset: float | None = None
        self.access_level = ""  # from x-access-level, once verify_account has run
        self._api: AsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None
        install_redaction(credentials)

    @property
    def host(self) -> str:
        """The API host name, for messages."""
        return URL(self.base_url).host or self.base_url

    def open(self) -> None:
        """Make tweepy's client and the session redirected to the base URL."""
        c = self.credentials
        self._api = AsyncClient(
            bearer_token=c.bearer_token,
            consumer_key=c.api_key,
            consumer_secret=c.api_secret,
            access_token=c.access_token,
            access_token_secret=c.access_token_secret,
            return_type=aiohttp.ClientResponse,  # keeps headers (rate limits) and the raw JSON
        )
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        if self.host in PRODUCTION_HOSTS:
            self._api.session = self._session
        else:
            self._api.session = _RebasedSession(self._session, self.base_url)

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def api(self) -> AsyncClient:
        """Tweepy's client; PlatformError when not started."""
        if self._api is None or self._session is None:
            raise PlatformError(
                "the X adapter is not started (call start() first)", retryable=False
            )
        return self._api

    async def send(
        self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """One API call: the JSON body and headers, or a typed failure.

        tweepy raises BadRequest/Unauthorized/Forbidden/NotFound for the caller to judge;
        rate limits and transient failures become RateLimited/Transient here, in one place.
        """
        try:
            response = await call(*args, **kwargs)
            body = await response.json()
        except tweepy.TooManyRequests as e:
            reset = float(e.reset_time) if e.reset_time is not None else None
            daily = daily_cap_reset(e.response.headers)
            raise RateLimited("X rate limit reached", reset, daily) from e
        except tweepy.TwitterServerError as e:
            raise Transient(f"X server error ({api_message(e)})") from e
        except tweepy.HTTPException as e:
            if e.response.status == 402:
                raise CreditsSpent() from e
            raise
        except (TimeoutError, aiohttp.ClientError) as e:
            reason = type(e).__name__ if isinstance(e, TimeoutError) else str(e) or type(e).__name__
            raise Transient(f"no answer from X ({reason})") from e
        return body, response.headers

    async def search(self, query: str, **params: Any) -> dict[str, Any]:
        """Recent search with the app's bearer token.

        Remembers the search rate-limit window (the only window polling has to fit in).
        """
        body, headers = await self.send(
            self.api.search_recent_tweets, query, user_auth=False, **params
        )
        self._note_limits(headers)
        return body

    def _note_limits(self, headers: Mapping[str, str]) -> None:
        try:
            self.remaining = int(headers["x-rate-limit-remaining"])
            self.reset = float(headers["x-rate-limit-reset"])
        except (KeyError, ValueError):
            pass

    def until_reset(self, reset: float | None) -> float:
        """Seconds to wait for a rate-limit reset at `reset`: 60 s when unknown, 15 min at most."""
        return reset_wait("X", reset, self.clock.now().timestamp())

    def next_interval(self, minimum: float, requests_per_cycle: int) -> float:
        """Spread the remaining requests of this rate-limit window over the time left in it."""
        return next_interval(minimum, self.remaining, self.reset,
                             self.clock.now().timestamp(), requests_per_cycle)

    # ----------------------------------------------------------------- the calls we make

    async def verify_account(self, backoff_base: float = 1.0) -> tuple[str, str, str]:
        """(user id, handle, display name) of the access token; PlatformSetupError if refused.

        The answer's `x-access-level` header (user context) is kept in `access_level`.
        """
        for attempt in range(3):
            try:
                body, headers = await self.send(self.api.get_me, user_auth=True)
                self.access_level = headers.get("x-access-level", "")
                break
            except tweepy.Unauthorized as e:
                raise PlatformSetupError(
                    "X: the API key/secret or access token/secret were rejected (401); check "
                    "X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET in .env"
                ) from e
            except tweepy.HTTPException as e:
                raise PlatformSetupError(f"X: checking the account failed: {api_message(e)}") from e
            except CreditsSpent as e:
                raise PlatformSetupError(str(e)) from e
            except (Transient, RateLimited) as e:
                if attempt == 2:
                    raise PlatformSetupError(
                        f"X: cannot verify the account at {self.host}: {e}") from e
                await self.clock.sleep(backoff_base * 2**attempt)
        data = body["data"]
        handle = data.get("username", "")
        return str(data["id"]), handle, data.get("name", handle)

    async def probe_search(self, query: str) -> tuple[bool, str]:
        """Whether this access level may search: (can_search, what X said)."""
        try:
            await self.search(query, max_results=10)
        except tweepy.Unauthorized as e:
            raise PlatformSetupError(
                "X: X_BEARER_TOKEN was rejected (401); copy the app's bearer token into .env"
            ) from e
        except tweepy.Forbidden as e:
            return False, api_message(e)
        except (Transient, RateLimited) as e:
            # A rate limit means the endpoint exists for this tier; a 5xx proves nothing.
            return True, f"search not verified ({e})"
        return True, "recent search works"

    async def search_retrying(
        self,
        query: str,
        *,
        sleep: Callable[[float], Awaitable[None]],
        backoff: Backoff,
        persistent: bool,
        **params: Any,
    ) -> dict[str, Any]:
        """One search page, retried.

        A 429 waits for the reset; 5xx and timeouts back off exponentially (capped), for
        ever when `persistent`, else `backoff.attempts` times.
        """
        failures = 0
        while True:
            try:
                return await self.search(query, **params)
            except RateLimited as e:
                wait = self.until_reset(e.reset)
                log.info("X: search rate limit reached; waiting %.0f s for the reset", wait)
                await sleep(wait)
            except Transient as e:
                failures += 1
                if not persistent and failures >= backoff.attempts:
                    raise
                delay = min(backoff.cap, backoff.base * 2 ** (failures - 1))
                log.warning("X: search failed, %s; retrying in %.1f s", e, delay)
                await sleep(delay)

    async def create_tweet(self, text: str, reply_to: str | None) -> str:
        """Post; returns the new tweet's id.

        Every failure is a PlatformError that says whether retrying can help (the host's
        outbox retries those that can).
        """
        try:
            body, _ = await self.send(
                self.api.create_tweet, text=text, in_reply_to_tweet_id=reply_to, user_auth=True
            )
        except RateLimited as e:
            if e.daily_reset is not None:
                raise DailyCapReached(e.daily_reset) from e
            wait = self.until_reset(e.reset)
            raise PlatformError(
                f"X rate limit for posting reached; it resets in {wait:.0f} s", retryable=True
            ) from e
        except tweepy.Forbidden as e:
            message = api_message(e)
            if "duplicate" in message.lower():
                raise DuplicatePost(
                    "X refused the post as a duplicate of a tweet already posted; change its "
                    "text (the script's repeat_text) to post it again"
                ) from e
            if "oauth1-permissions" in str(getattr(e, "response_json", None) or "") or (
                    "permissions" in message.lower()):
                raise PlatformError(
                    "X: the access token is read-only; set the app to 'Read and write', "
                    "regenerate the access token and secret (docs/x.md, step 2)",
                    retryable=False,
                ) from e
            raise PlatformError(f"X refused the post: {message}", retryable=False) from e
        except tweepy.Unauthorized as e:
            raise PlatformError(
                "X rejected the access token while posting; run `tweetchat x check`",
                retryable=False,
            ) from e
        except tweepy.HTTPException as e:
            raise PlatformError(f"X rejected the post: {api_message(e)}", retryable=False) from e
        return str(body["data"]["id"])

    async def set_hidden(self, tweet_id: str, hidden: bool) -> str | None:
        """Hide or unhide a reply; None when done, else why not."""
        call = self.api.hide_reply if hidden else self.api.unhide_reply
        try:
            await self.send(call, tweet_id, user_auth=True)
        except tweepy.HTTPException as e:
            return api_message(e)
        except (Transient, RateLimited) as e:
            return str(e)
        return None


async def check_credentials(
    credentials: XCredentials,
    *,
    hashtag: str = "",
    base_url: str | None = None,
    clock: Clock | None = None,
) -> XAccountReport:
    """For `tweetchat x check`: who the keys post as, and whether this tier can search.

    Raises PlatformSetupError (one plain line) when a token is missing or rejected.
    """
    missing = credentials.missing()
    if missing:
        raise PlatformSetupError(
            f"X: {', '.join(missing)} not set; add {'it' if len(missing) == 1 else 'them'}"
            " to .env (see config/.env.example and docs/x.md)"
        )
    client = XClient(credentials, base_url or DEFAULT_BASE_URL, clock=clock)
    client.open()
    try:
        user_id, handle, name = await client.verify_account()
        tag = hashtag.strip()
        query = f"{tag if tag.startswith('#') else '#' + tag}" if tag else f"from:{handle}"
        can_search, detail = await client.probe_search(f"{query} -is:retweet")
    finally:
        await client.close()
    return XAccountReport(user_id, handle, name, can_search, detail, client.access_level)
