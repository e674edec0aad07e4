"""The X (Twitter) adapter: tweepy's v2 AsyncClient behind the Platform contract.

Posting uses OAuth 1.0a user context (X_API_KEY/SECRET + X_ACCESS_TOKEN/SECRET); searching
uses the app's bearer token. X has no push for a hashtag on ordinary tiers, so `events()`
polls recent search: one query for the hashtag and one per conversation the host started
(replies often drop the hashtag), each with its own since_id cursor. The poll interval
stretches to fit the rate-limit window the responses report; a 429 waits for the reset
without moving the cursor; server errors and timeouts back off exponentially.

Pointing at another server: tweepy hard-codes https://api.twitter.com, so when the
`base_url` setting names something else (the fake server in tests and rehearsals) the
client's aiohttp session is wrapped to send the same requests there. With the default base
URL nothing is wrapped and tweepy runs exactly as shipped.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient
from yarl import URL

from bot.clock import Clock
from bot.platforms.base import (
    Action,
    ActionResult,
    Author,
    Backfill,
    Capabilities,
    ChatContext,
    Event,
    Message,
    Platform,
    PlatformError,
    PlatformSetupError,
    PostRef,
)
from bot.platforms.x_text import MAX_WEIGHTED, weighted_length, with_hashtag

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.x.com"
_PRODUCTION_HOSTS = {"api.x.com", "api.twitter.com"}
TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "referenced_tweets",
    "public_metrics",
    "in_reply_to_user_id",
    "lang",
]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "name"]
_NO_SEARCH_HINT = "posting continues; collect the chat afterwards with `tweetchat import x`"


class _Transient(PlatformError):
    """A 5xx, a timeout or a dropped connection: backing off may help."""


class _RateLimited(PlatformError):
    def __init__(self, message: str, reset: float | None) -> None:
        super().__init__(message, retryable=True)
        self.reset = reset


class _Stopped(PlatformError):
    """stop() was called while the adapter was waiting."""


@dataclass(frozen=True)
class XCredentials:
    """The five secrets. Never logged: repr shows only which ones are present."""

    api_key: str | None = None
    api_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    bearer_token: str | None = None

    def missing(self) -> list[str]:
        names = {
            "X_API_KEY": self.api_key,
            "X_API_SECRET": self.api_secret,
            "X_ACCESS_TOKEN": self.access_token,
            "X_ACCESS_TOKEN_SECRET": self.access_token_secret,
            "X_BEARER_TOKEN": self.bearer_token,
        }
        return [name for name, value in names.items() if not (value and value.strip())]

    def __repr__(self) -> str:
        missing = self.missing()
        return f"XCredentials(<hidden>, missing={missing})"


@dataclass(frozen=True)
class XAccountReport:
    """What `tweetchat x check` prints."""

    user_id: str
    handle: str
    name: str
    can_search: bool
    search_detail: str


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
        if target.host in _PRODUCTION_HOSTS:
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


def _install_redaction(credentials: XCredentials) -> None:
    _REDACTOR.secrets.update(
        value
        for value in (
            credentials.api_key,
            credentials.api_secret,
            credentials.access_token,
            credentials.access_token_secret,
            credentials.bearer_token,
        )
        if value and len(value) >= 4  # never blank out a stray short word
    )
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


def _api_message(error: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in error.api_messages) or str(error).replace("\n", " ")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _as_float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class XPlatform(Platform):
    name = "x"
    capabilities = Capabilities(
        threads=True,
        hiding=True,
        max_length=MAX_WEIGHTED,
        weighted_length=True,
        actions=frozenset({"hide", "restore"}),
    )

    def __init__(
        self,
        context: ChatContext,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        bearer_token: str | None = None,
        base_url: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(context)
        s = context.settings
        self._creds = XCredentials(
            api_key, api_secret, access_token, access_token_secret, bearer_token
        )
        _install_redaction(self._creds)
        self._base_url = (base_url or s.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self._clock = clock or Clock()
        self._poll_interval = _as_float(s.get("poll_interval"), 15.0)
        self._request_timeout = _as_float(s.get("request_timeout"), 20.0)
        self._backoff_base = _as_float(s.get("backoff_base"), 1.0)
        self._backoff_cap = _as_float(s.get("backoff_cap"), 300.0)
        self._backfill_attempts = int(_as_float(s.get("backfill_attempts"), 5))
        self._lookback = _as_float(s.get("lookback_seconds"), 0.0)
        self._page_size = int(_as_float(s.get("page_size"), 100))

        self._client: AsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()
        self._me_id = ""
        self._handle = ""
        self.display_name = ""
        self.can_search = True
        self.search_detail = ""
        self._warned_no_search = False
        self._start_time: datetime | None = None
        self._cursors: dict[str, str] = {}
        self._conversations: list[str] = []
        self._conversation_of: dict[str, str] = {}  # tweet id -> conversation id
        self._seen: set[str] = set()
        self._remaining: int | None = None
        self._reset: float | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        missing = self._creds.missing()
        if missing:
            raise PlatformSetupError(
                f"X: {', '.join(missing)} not set; add {'it' if len(missing) == 1 else 'them'}"
                " to .env (see config/.env.example), then run `tweetchat x check`"
            )
        await self._close_session()  # a second start() must not leak the first session
        self._open_client()
        try:
            await self._verify_account()
            self.search_detail = await self._probe_search()
        except BaseException:
            await self._close_session()
            raise
        self._stopping.clear()
        self._start_time = self._clock.now() - timedelta(seconds=self._lookback)

    async def stop(self) -> None:
        self._stopping.set()
        await self._close_session()

    def _open_client(self) -> None:
        c = self._creds
        self._client = AsyncClient(
            bearer_token=c.bearer_token,
            consumer_key=c.api_key,
            consumer_secret=c.api_secret,
            access_token=c.access_token,
            access_token_secret=c.access_token_secret,
            return_type=aiohttp.ClientResponse,  # keeps headers (rate limits) and the raw JSON
        )
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._request_timeout)
        )
        host = URL(self._base_url).host
        if host in _PRODUCTION_HOSTS:
            self._client.session = self._session
        else:
            self._client.session = _RebasedSession(self._session, self._base_url)

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _require_client(self) -> AsyncClient:
        if self._client is None or self._session is None:
            raise PlatformError(
                "the X adapter is not started (call start() first)", retryable=False
            )
        return self._client

    @property
    def cursor(self) -> Mapping[str, str]:
        """The since_id cursors reached so far, to store and pass to backfill() after a restart."""
        return dict(self._cursors)

    @property
    def handle(self) -> str:
        return self._handle

    @property
    def user_id(self) -> str:
        return self._me_id

    def watch_conversation(self, conversation_id: str) -> None:
        """Also collect replies in this conversation (e.g. host posts made before a restart)."""
        if conversation_id not in self._conversations:
            self._conversations.append(conversation_id)
            # Every tweet in a conversation has an id above its root's.
            self._cursors.setdefault(f"conv:{conversation_id}", str(int(conversation_id) - 1))

    # ----------------------------------------------------------------- requests

    async def _send(
        self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """One API call: the JSON body and headers, or a typed failure.

        tweepy raises BadRequest/Unauthorized/Forbidden/NotFound for the caller to judge;
        rate limits and transient failures become _RateLimited/_Transient here, in one place.
        """
        try:
            response = await call(*args, **kwargs)
            body = await response.json()
        except tweepy.TooManyRequests as e:
            reset = float(e.reset_time) if e.reset_time is not None else None
            raise _RateLimited("X rate limit reached", reset) from e
        except tweepy.TwitterServerError as e:
            raise _Transient(f"X server error ({_api_message(e)})") from e
        except (TimeoutError, aiohttp.ClientError) as e:
            reason = type(e).__name__ if isinstance(e, TimeoutError) else str(e) or type(e).__name__
            raise _Transient(f"no answer from X ({reason})") from e
        return body, response.headers

    def _note_limits(self, headers: Mapping[str, str]) -> None:
        try:
            self._remaining = int(headers["x-rate-limit-remaining"])
            self._reset = float(headers["x-rate-limit-reset"])
        except (KeyError, ValueError):
            pass

    def _until_reset(self, reset: float | None) -> float:
        if reset is None:
            return 60.0  # no header: a conservative guess, shorter than X's 15-minute window
        return max(1.0, reset - self._clock.now().timestamp() + 1.0)

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the injected clock, waking early (with _Stopped) when stop() is called."""
        if self._stopping.is_set():
            raise _Stopped("X adapter stopped")
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        if self._stopping.is_set():
            raise _Stopped("X adapter stopped")

    # ----------------------------------------------------------------- start-up checks

    async def _verify_account(self) -> None:
        client = self._require_client()
        host = URL(self._base_url).host
        for attempt in range(3):
            try:
                body, _ = await self._send(client.get_me, user_auth=True)
                break
            except tweepy.Unauthorized as e:
                raise PlatformSetupError(
                    "X: the API key/secret or access token/secret were rejected (401); check "
                    "X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET in .env"
                ) from e
            except tweepy.HTTPException as e:
                raise PlatformSetupError(
                    f"X: checking the account failed: {_api_message(e)}"
                ) from e
            except (_Transient, _RateLimited) as e:
                if attempt == 2:
                    raise PlatformSetupError(f"X: cannot verify the account at {host}: {e}") from e
                await self._clock.sleep(self._backoff_base * 2**attempt)
        data = body["data"]
        self._me_id, self._handle = str(data["id"]), data.get("username", "")
        self.display_name = data.get("name", self._handle)
        log.info("X: posting as @%s", self._handle)

    def _probe_query(self) -> str:
        tag = self.context.hashtag.strip()
        if tag:
            return f"{tag if tag.startswith('#') else '#' + tag} -is:retweet"
        return f"from:{self._handle} -is:retweet"

    async def _probe_search(self) -> str:
        client = self._require_client()
        try:
            _, headers = await self._send(
                client.search_recent_tweets, self._probe_query(), max_results=10, user_auth=False
            )
            self._note_limits(headers)
        except tweepy.Unauthorized as e:
            raise PlatformSetupError(
                "X: X_BEARER_TOKEN was rejected (401); copy the app's bearer token into .env"
            ) from e
        except tweepy.Forbidden as e:
            self._search_unavailable(e)
            return _api_message(e)
        except (_Transient, _RateLimited) as e:
            # A rate limit means the endpoint exists for this tier; a 5xx proves nothing.
            return f"search not verified ({e})"
        self.can_search = True
        return "recent search works"

    def _search_unavailable(self, error: tweepy.HTTPException) -> None:
        self.can_search = False
        if not self._warned_no_search:
            self._warned_no_search = True
            codes = ",".join(str(c) for c in error.api_codes) or "403"
            log.warning(
                "X: this account's API access cannot search recent tweets (%s); %s",
                codes,
                _NO_SEARCH_HINT,
            )

    # ----------------------------------------------------------------- posting

    async def post(
        self, text: str, *, reply_to: str | None = None, new_thread: str | None = None
    ) -> PostRef:
        # X has no named threads: a post without reply_to starts its own conversation.
        client = self._require_client()
        text = with_hashtag(text, self.context.hashtag)
        length = weighted_length(text)
        if length > MAX_WEIGHTED:
            raise PlatformError(
                f"X post is {length} weighted characters (hashtag included); X allows "
                f"{MAX_WEIGHTED}: shorten it in the chat script",
                retryable=False,
            )
        try:
            body, _ = await self._send(
                client.create_tweet, text=text, in_reply_to_tweet_id=reply_to, user_auth=True
            )
        except _RateLimited as e:
            wait = self._until_reset(e.reset)
            raise PlatformError(
                f"X rate limit for posting reached; it resets in {wait:.0f} s", retryable=True
            ) from e
        except tweepy.Forbidden as e:
            message = _api_message(e)
            if "duplicate" in message.lower():
                raise PlatformError(
                    "X refused the post as a duplicate of a tweet already posted; change its "
                    "text to post it again",
                    retryable=False,
                ) from e
            raise PlatformError(f"X refused the post: {message}", retryable=False) from e
        except tweepy.Unauthorized as e:
            raise PlatformError(
                "X rejected the access token while posting; run `tweetchat x check`",
                retryable=False,
            ) from e
        except tweepy.HTTPException as e:
            raise PlatformError(f"X rejected the post: {_api_message(e)}", retryable=False) from e
        tweet_id = str(body["data"]["id"])
        conversation = (
            self._conversation_of.get(reply_to, reply_to) if reply_to is not None else tweet_id
        )
        self._conversation_of[tweet_id] = conversation
        self.watch_conversation(conversation)
        return PostRef(
            platform="x", id=tweet_id, thread_id=conversation, url=self._url(tweet_id, self._handle)
        )

    @staticmethod
    def _url(tweet_id: str, handle: str | None) -> str:
        return f"https://x.com/{handle or 'i/web'}/status/{tweet_id}"

    # ----------------------------------------------------------------- collecting

    def _queries(self) -> list[tuple[str, str]]:
        queries = []
        tag = self.context.hashtag.strip()
        if tag:
            queries.append(("hashtag", f"{tag if tag.startswith('#') else '#' + tag} -is:retweet"))
        queries += [(f"conv:{c}", f"conversation_id:{c} -is:retweet") for c in self._conversations]
        return queries

    async def _search_page(
        self, query: str, *, since_id: str | None, next_token: str | None, persistent: bool
    ) -> dict[str, Any]:
        """One page, retried: 429 waits for the reset; 5xx/timeouts back off (capped)."""
        client = self._require_client()
        failures = 0
        while True:
            try:
                body, headers = await self._send(
                    client.search_recent_tweets,
                    query,
                    since_id=since_id,
                    start_time=None if since_id else self._start_time,
                    next_token=next_token,
                    max_results=self._page_size,
                    tweet_fields=TWEET_FIELDS,
                    expansions=EXPANSIONS,
                    user_fields=USER_FIELDS,
                    user_auth=False,
                )
                self._note_limits(headers)
                return body
            except _RateLimited as e:
                wait = self._until_reset(e.reset)
                log.info("X: search rate limit reached; waiting %.0f s for the reset", wait)
                await self._sleep(wait)
            except _Transient as e:
                failures += 1
                if not persistent and failures >= self._backfill_attempts:
                    raise
                delay = min(self._backoff_cap, self._backoff_base * 2 ** (failures - 1))
                log.warning("X: search failed, %s; retrying in %.1f s", e, delay)
                await self._sleep(delay)

    async def _collect(self, key: str, query: str, *, persistent: bool) -> list[Event]:
        """Every new tweet for one query since its cursor, oldest first; moves the cursor."""
        since = self._cursors.get(key)
        newest = since
        token: str | None = None
        found: dict[str, Event] = {}
        while True:
            body = await self._search_page(
                query, since_id=since, next_token=token, persistent=persistent
            )
            meta = body.get("meta", {})
            for event in self._page_events(body, query):
                found.setdefault(event.message_id, event)
            if meta.get("newest_id") and (newest is None or int(meta["newest_id"]) > int(newest)):
                newest = str(meta["newest_id"])
            token = meta.get("next_token")
            if not token:
                break
        # The cursor moves only once every page is in, so an interruption never skips tweets.
        if newest is not None:
            self._cursors[key] = newest
        fresh = [e for e in found.values() if e.message_id not in self._seen]
        self._seen.update(e.message_id for e in fresh)
        return sorted(fresh, key=lambda e: int(e.message_id))

    def _page_events(self, body: Mapping[str, Any], query: str) -> list[Event]:
        includes = body.get("includes", {})
        users = {u["id"]: u for u in includes.get("users", [])}
        tweets = {t["id"]: t for t in includes.get("tweets", [])}
        meta = body.get("meta", {})
        events = []
        for tweet in body.get("data", []):
            refs = {r["type"]: r["id"] for r in tweet.get("referenced_tweets", [])}
            if "retweeted" in refs:
                continue  # a retweet repeats someone else's words; X counts it on the original
            events.append(self._to_event(tweet, refs, users, tweets, meta, query))
        return events

    def _to_event(
        self,
        tweet: Mapping[str, Any],
        refs: Mapping[str, str],
        users: Mapping[str, Mapping[str, Any]],
        tweets: Mapping[str, Mapping[str, Any]],
        meta: Mapping[str, Any],
        query: str,
    ) -> Event:
        author_id = str(tweet.get("author_id", ""))
        user = users.get(author_id, {})
        handle = user.get("username")
        author = Author(
            platform="x",
            id=author_id,
            name=user.get("name") or handle or author_id,
            handle=handle,
            is_bot=author_id == self._me_id,
        )
        referenced = [tweets[i] for i in refs.values() if i in tweets]
        ref_authors = {str(t.get("author_id")) for t in referenced}
        raw = {
            "data": dict(tweet),
            "includes": {
                "users": [u for uid, u in users.items() if uid == author_id or uid in ref_authors],
                "tweets": referenced,
            },
            "page_meta": dict(meta),
            "query": query,
        }
        tweet_id = str(tweet["id"])
        conversation = tweet.get("conversation_id")
        if conversation:
            self._conversation_of[tweet_id] = str(conversation)
        created = _parse_time(tweet["created_at"]) if "created_at" in tweet else self._clock.now()
        message = Message(
            platform="x",
            id=tweet_id,
            author=author,
            text=tweet.get("text", ""),
            created=created,
            reply_to=refs.get("replied_to"),
            thread_id=str(conversation) if conversation else None,
            reactions=int(tweet.get("public_metrics", {}).get("like_count", 0)),
            url=self._url(tweet_id, handle),
            kind="quote" if "quoted" in refs else "message",
            raw=raw,
        )
        return Event(kind="created", platform="x", message_id=tweet_id, at=created, message=message)

    def _next_interval(self, requests_per_cycle: int) -> float:
        """Spread the remaining requests of this rate-limit window over the time left in it."""
        if self._remaining is None or self._reset is None:
            return self._poll_interval
        left = max(0.0, self._reset - self._clock.now().timestamp())
        cycles = self._remaining // max(1, requests_per_cycle)
        if cycles <= 0:
            return max(self._poll_interval, left + 1.0)
        return max(self._poll_interval, left / cycles)

    async def events(self) -> AsyncIterator[Event]:
        self._require_client()
        try:
            while not self._stopping.is_set():
                queries = self._queries()
                for key, query in queries if self.can_search else []:
                    try:
                        found = await self._collect(key, query, persistent=True)
                    except tweepy.Forbidden as e:
                        self._search_unavailable(e)
                        break
                    except tweepy.HTTPException as e:
                        raise PlatformError(
                            f"X search refused {query!r}: {_api_message(e)}", retryable=False
                        ) from e
                    for event in found:
                        yield event
                if not self.can_search:
                    await self._stopping.wait()  # nothing to poll; posting still works
                    return
                await self._sleep(self._next_interval(len(queries)))
        except _Stopped:
            return

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        self._require_client()
        for key, value in since.items():
            if key.startswith("conv:"):
                self.watch_conversation(key.removeprefix("conv:"))
            current = self._cursors.get(key)
            if current is None or int(value) > int(current):
                self._cursors[key] = str(value)
        events: list[Event] = []
        for key, query in self._queries() if self.can_search else []:
            try:
                events += await self._collect(key, query, persistent=False)
            except tweepy.Forbidden as e:
                self._search_unavailable(e)
                break
            except tweepy.HTTPException as e:
                raise PlatformError(
                    f"X search refused {query!r}: {_api_message(e)}", retryable=False
                ) from e
        events.sort(key=lambda e: int(e.message_id))
        return Backfill(events=tuple(events), cursor=dict(self._cursors))

    # ----------------------------------------------------------------- moderation

    async def act(self, action: Action) -> ActionResult:
        if action.kind not in ("hide", "restore"):
            return ActionResult(False, f"X cannot {action.kind}; flagged only")
        if not action.message_id:
            return ActionResult(False, f"X {action.kind} needs the tweet id")
        client = self._require_client()
        call = client.hide_reply if action.kind == "hide" else client.unhide_reply
        try:
            await self._send(call, action.message_id, user_auth=True)
        except tweepy.HTTPException as e:
            return ActionResult(
                False, f"X refused to {action.kind} {action.message_id}: {_api_message(e)}"
            )
        done = "hidden" if action.kind == "hide" else "shown again"
        return ActionResult(True, f"reply {action.message_id} {done} on X")


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
    context = ChatContext(chat_id="x-check", title="X credentials check", hashtag=hashtag)
    platform = XPlatform(
        context,
        api_key=credentials.api_key,
        api_secret=credentials.api_secret,
        access_token=credentials.access_token,
        access_token_secret=credentials.access_token_secret,
        bearer_token=credentials.bearer_token,
        base_url=base_url,
        clock=clock,
    )
    await platform.start()
    try:
        return XAccountReport(
            user_id=platform.user_id,
            handle=platform.handle,
            name=platform.display_name,
            can_search=platform.can_search,
            search_detail=platform.search_detail,
        )
    finally:
        await platform.stop()
