"""The X (Twitter) adapter: tweepy's v2 AsyncClient behind the Platform contract.

Posting uses OAuth 1.0a user context (X_API_KEY/SECRET + X_ACCESS_TOKEN/SECRET); searching
uses the app's bearer token. X has no push for a hashtag on ordinary tiers, so `events()`
polls recent search: one query for the hashtag and one per conversation the host started
(replies often drop the hashtag), each with its own since_id cursor. The poll interval
stretches to fit the rate-limit window the responses report; a 429 waits for the reset
without moving the cursor; server errors and timeouts back off exponentially.

HTTP, credentials and error mapping live in x_client; this module is the chat logic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.platforms.base import (
    Capabilities,
    ChatContext,
    PlatformError,
    PlatformServices,
    PlatformSetupError,
)
from bot.platforms.posting import FeedPlatform
from bot.platforms.recent import RecentMap, RecentSet
from bot.platforms.x.budget import SearchBudget
from bot.platforms.x.client import (
    DEFAULT_BASE_URL,
    Backoff,
    Stopped,
    XAccountReport,
    XClient,
    XCredentials,
    as_bool,
    as_float,
    check_credentials,
)
from bot.platforms.x.collecting import SearchCollecting
from bot.platforms.x.text import MAX_WEIGHTED, weighted_length, with_hashtag
from bot.platforms.x.tweets import tweet_url
from bot.platforms.x.window import conversation_too_old
from bot.records import Action, ActionResult, PostRef

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["XAccountReport", "XCredentials", "XPlatform", "build", "check_credentials"]

log = logging.getLogger(__name__)

NO_SEARCH_WARNING = (
    "X: this app cannot search recent posts (X refused it with 403; on pay-per-use, check "
    "the app is in a project with credits). Posting continues, but replies are not "
    "collected live: collect the chat afterwards with "
    "`tweetchat import x FILE.jsonl --script chats/<chat>.yaml` (see docs/x.md)"
)


def build(context: ChatContext, services: PlatformServices) -> XPlatform:
    """The registry's factory: secrets and [x] settings under the script's own values."""
    return XPlatform.from_settings(context, services.settings, clock=services.clock)


class XPlatform(SearchCollecting, FeedPlatform):
    """One chat on X: posts through OAuth 1.0a, collects by polling recent search."""

    name = "x"
    welcome_follows_latest = True  # the next week's welcome (or the close) becomes the root
    capabilities = Capabilities(
        threads=True,
        hiding=True,
        max_length=MAX_WEIGHTED,
        weighted_length=True,
        actions=frozenset({"hide", "restore"}),
        refuses_repeats=True,
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
        self._clock = clock or Clock()
        creds = XCredentials(api_key, api_secret, access_token, access_token_secret, bearer_token)
        self.x = XClient(
            creds,
            base_url or s.get("base_url") or DEFAULT_BASE_URL,
            timeout=as_float(s.get("request_timeout"), 20.0),
            clock=self._clock,
        )
        self._poll_interval = as_float(s.get("poll_interval"), 15.0)
        self._backoff = Backoff(
            base=as_float(s.get("backoff_base"), 1.0),
            cap=as_float(s.get("backoff_cap"), 300.0),
            attempts=int(as_float(s.get("backfill_attempts"), 5)),
        )
        self._lookback = as_float(s.get("lookback_seconds"), 0.0)
        self._page_size = int(as_float(s.get("page_size"), 100))
        # Conversations stop being searched this long after the host's post (X's recent
        # search only reaches back 7 days anyway; a week-old chat needs no polling).
        self._watch_seconds = as_float(s.get("watch_hours"), 6.0) * 3600
        self._thread_questions = as_bool(s.get("thread_questions", False))
        self._share_transcript = as_bool(s.get("share_transcript", True))
        self._host_account = str(s.get("host_account") or "").lstrip("@")

        self._stopping = asyncio.Event()
        self._me_id = ""
        self._handle = ""
        self.display_name = ""
        self.can_search = True
        self.search_detail = ""
        self._warned_no_search = False
        self._start_time: datetime | None = None
        self._cursors: dict[str, str] = {}
        self._acked: dict[str, str] = {}  # cursors whose tweets have surely been handed over
        self._watched: dict[str, datetime] = {}  # conversation id -> when watching began
        self._conversation_of: RecentMap[str, str] = RecentMap()  # tweet id -> conversation
        self._welcome: str | None = None  # the welcome: questions reply to it (thread_questions)
        self._seen: RecentSet[str] = RecentSet()
        self.budget = SearchBudget()

    @classmethod
    def from_settings(
        cls, context: ChatContext, settings: Settings, *, clock: Clock | None = None
    ) -> XPlatform:
        """The adapter as `tweetchat run` builds it: secrets and [x] settings.

        The chat script's `platform_settings.x` (already in `context.settings`) takes
        precedence.
        """
        creds = XCredentials.from_secrets(settings.secrets)
        x = settings.x
        merged: dict[str, Any] = {
            "poll_interval": x.poll_seconds,
            "host_account": x.host_account,
            "lookback_seconds": x.backfill_window_minutes * 60,
        }
        merged.update(context.settings)
        if "poll_seconds" in context.settings:
            merged["poll_interval"] = context.settings["poll_seconds"]
        ctx = ChatContext(context.chat_id, context.title, context.hashtag, merged)
        return cls(
            ctx,
            api_key=creds.api_key,
            api_secret=creds.api_secret,
            access_token=creds.access_token,
            access_token_secret=creds.access_token_secret,
            bearer_token=creds.bearer_token,
            base_url=str(merged.get("base_url") or x.api_base),
            clock=clock,
        )

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Check the keys, find the account, probe whether search works here."""
        missing = self.x.credentials.missing()
        if missing:
            raise PlatformSetupError(
                f"X: {', '.join(missing)} not set; add {'it' if len(missing) == 1 else 'them'}"
                " to .env (see config/.env.example), then run `tweetchat x check`"
            )
        await self.x.close()  # a second start() must not leak the first session
        self.x.open()
        try:
            await self._verify_account()
            self.search_detail = await self._probe_search()
        except BaseException:
            await self.x.close()
            raise
        self._stopping.clear()
        self._start_time = self._clock.now() - timedelta(seconds=self._lookback)

    async def stop(self) -> None:
        """Stop polling and close the HTTP session."""
        self._stopping.set()
        await self.x.close()

    @property
    def cursor(self) -> Mapping[str, str]:
        """The since_id cursors reached so far, to store and pass to backfill() after a restart."""
        return dict(self._cursors)

    def live_cursor(self) -> Mapping[str, str] | None:
        """The cursor the collector saves after each stored batch.

        It lags one poll cycle behind `cursor`: a cycle's tweets are handed to the collector
        before the next cycle starts, so everything below this cursor has long been queued
        and stored. A crash then costs a harmless re-fetch, never a lost tweet.
        """
        return dict(self._acked) or None

    @property
    def handle(self) -> str:
        """The @handle the keys post as (known after start)."""
        return self._handle

    @property
    def account_id(self) -> str | None:
        """The account the access token posts as (its id), once started."""
        return self._me_id or None

    def as_sent(self, text: str) -> str:
        """X posts carry the chat's hashtag; the adapter adds it when missing."""
        return with_hashtag(text, self.context.hashtag)

    @property
    def user_id(self) -> str:
        """The posting account's id (known after start)."""
        return self._me_id

    def watch_conversation(self, conversation_id: str) -> None:
        """Also collect replies in this conversation (e.g. host posts made before a restart)."""
        key = f"conv:{conversation_id}"
        if conversation_too_old(conversation_id, self._clock.now()):
            return  # beyond recent search: `tweetchat import x` brings that history in
        if conversation_id not in self._watched:
            self._watched[conversation_id] = self._clock.now()
            # Every tweet in a conversation has an id above its root's.
            start = str(int(conversation_id) - 1)
            self._cursors.setdefault(key, start)
            # Saved at once, so a restart before the next poll still watches it.
            self._acked.setdefault(key, start)

    def _conversations(self) -> list[str]:
        horizon = self._clock.now() - timedelta(seconds=self._watch_seconds)
        return [c for c, since in self._watched.items() if since >= horizon]

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the injected clock, waking early (with Stopped) when stop() is called."""
        if self._stopping.is_set():
            raise Stopped("X adapter stopped")
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        if self._stopping.is_set():
            raise Stopped("X adapter stopped")

    # ----------------------------------------------------------------- start-up checks

    async def _verify_account(self) -> None:
        self._me_id, self._handle, self.display_name = await self.x.verify_account(
            self._backoff.base
        )
        log.info("X: posting as @%s (access level %s)", self._handle,
                 self.x.access_level or "not reported")
        if self.x.access_level == "read":
            raise PlatformSetupError(
                f"X: the access token of @{self._handle} is read-only (x-access-level: read); "
                "set the app to 'Read and write', regenerate the access token and secret, and "
                "update .env (docs/x.md, step 2)")
        if self._host_account and self._host_account.lower() != self._handle.lower():
            log.warning(
                "X: the access token posts as @%s but host_account is @%s; set [x] "
                "host_account (or the chat's platform_settings.x.host_account) to match",
                self._handle,
                self._host_account,
            )

    def _hashtag_query(self) -> str | None:
        tag = self.context.hashtag.strip()
        if not tag:
            return None
        return f"{tag if tag.startswith('#') else '#' + tag} -is:retweet"

    async def _probe_search(self) -> str:
        query = self._hashtag_query() or f"from:{self._handle} -is:retweet"
        self.can_search, detail = await self.x.probe_search(query)
        if not self.can_search:
            self._search_unavailable()
        return detail

    def _search_unavailable(self) -> None:
        self.can_search = False
        if not self._warned_no_search:
            self._warned_no_search = True
            log.warning(NO_SEARCH_WARNING)

    # ----------------------------------------------------------------- posting

    def _watch_posted(self, thread_id: str) -> None:
        self.watch_conversation(thread_id)

    async def _create(self, text: str, reply_to: str | None) -> PostRef:
        self.x.api  # noqa: B018 - the plain "not started" error before anything else
        text = with_hashtag(text, self.context.hashtag)
        length = weighted_length(text)
        if length > MAX_WEIGHTED:
            raise PlatformError(
                f"X post is {length} weighted characters (hashtag included); X allows "
                f"{MAX_WEIGHTED}: shorten it in the chat script",
                retryable=False,
            )
        tweet_id = await self.x.create_tweet(text, reply_to)
        conversation = (
            self._conversation_of.get(reply_to, reply_to) if reply_to is not None else tweet_id
        )
        self._conversation_of[tweet_id] = conversation
        return PostRef(
            platform="x", id=tweet_id, thread_id=conversation, url=tweet_url(tweet_id, self._handle)
        )

    # ----------------------------------------------------------------- moderation

    async def act(self, action: Action) -> ActionResult:
        """Hide or show a reply again (X's hidden replies); anything else is flagged only."""
        if action.kind not in ("hide", "restore"):
            return ActionResult(False, f"X cannot {action.kind}; flagged only")
        if not action.message_id:
            return ActionResult(False, f"X {action.kind} needs the tweet id")
        refused = await self.x.set_hidden(action.message_id, action.kind == "hide")
        if refused is not None:
            return ActionResult(False, f"X refused to {action.kind} {action.message_id}: {refused}")
        done = "hidden" if action.kind == "hide" else "shown again"
        return ActionResult(True, f"reply {action.message_id} {done} on X")
