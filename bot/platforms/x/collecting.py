"""How the X adapter collects: polling recent search, within X's production limits.

One search for the hashtag and one per conversation the host started, each with its own
since_id cursor. Before every cycle the cursors are kept inside recent search's 7-day
window (old conversations retired, stale cursors moved to the edge with the gap reported)
and a quiet spell keeps the hashtag's cursor fresh, so a week without tweets is no gap.
The hashtag is searched every cycle; conversations share what the rate-limit window has
left (bot.platforms.x.budget). Credits running out (402) or a refused search end the
stream with a plain error: the Collector restarts it with backoff and tells the moderators.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import tweepy

from bot.clock import Clock
from bot.platforms.base import ChatContext, PlatformError
from bot.platforms.payload import obj
from bot.platforms.polling import MAX_RESET_WAIT
from bot.platforms.recent import RecentMap, RecentSet
from bot.platforms.x.budget import SearchBudget
from bot.platforms.x.client import Backoff, Stopped, XClient, api_message
from bot.platforms.x.ids import snowflake_at, snowflake_time, window_edge
from bot.platforms.x.text import with_hashtag
from bot.platforms.x.tweets import (
    EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    page_messages,
    version_id,
)
from bot.platforms.x.window import clamp, conversation_too_old
from bot.records import Backfill, Event, PostRef

log = logging.getLogger(__name__)

# Search's index lags a little: a quiet search proves nothing newer than this existed.
INDEX_SLACK = timedelta(minutes=10)
# A cursor this close to the window's edge is refreshed after a search that found nothing.
REFRESH_AFTER = timedelta(days=5)
FIND_PAGES = 3  # pages of the account's own recent posts read when looking for a post
# Pages of one search read in one cycle (10,000 tweets at 100 a page): a chat never has
# more, and a search that keeps answering with pages must not hold a cycle for ever.
MAX_SEARCH_PAGES = 100


class SearchCollecting:
    """The collecting half of XPlatform (a mixin: the adapter owns the state)."""

    context: ChatContext
    x: XClient
    _clock: Clock
    _backoff: Backoff
    _page_size: int
    _poll_interval: float
    _start_time: datetime | None
    _stopping: asyncio.Event
    _cursors: dict[str, str]
    _acked: dict[str, str]
    _watched: dict[str, datetime]
    _conversation_of: RecentMap[str, str]
    _seen: RecentSet[str]
    _welcome: str | None
    _me_id: str
    _handle: str
    can_search: bool
    budget: SearchBudget

    if TYPE_CHECKING:  # provided by XPlatform and Platform; never shadow them at run time
        def _hashtag_query(self) -> str | None: ...
        def _conversations(self) -> list[str]: ...
        def _search_unavailable(self) -> None: ...
        async def _sleep(self, seconds: float) -> None: ...
        def watch_conversation(self, conversation_id: str) -> None:
            """Follow a conversation's replies from now on."""
        def report_gap(self, text: str) -> None:
            """Tell the moderators that some replies could not be read."""

    # ----------------------------------------------------------------- the window

    def _clamp(self) -> None:
        """Keep every cursor inside recent search's window; retire what fell out of it."""
        result = clamp(self._cursors, self._clock.now())
        for key in result.retired:
            conversation = key.removeprefix("conv:")
            self._watched.pop(conversation, None)
            self._acked.pop(key, None)
            log.info("X: conversation %s is older than the search window; retired", conversation)
        self._cursors = result.cursors
        for key, since in result.cursors.items():
            if key in self._acked and int(self._acked[key]) < int(since):
                self._acked[key] = since
        for gap in result.gaps:
            log.warning("X: %s", gap)
            self.report_gap(gap)

    def _refresh(self, key: str, searched_at: datetime) -> None:
        """After a search that found nothing: keep a quiet cursor from going stale."""
        since = self._cursors.get(key)
        fresh = snowflake_at(searched_at - INDEX_SLACK)
        if since is not None and snowflake_time(since) < searched_at - REFRESH_AFTER:
            self._cursors[key] = str(max(int(since), fresh))

    # ----------------------------------------------------------------- searching

    def _queries(self) -> list[tuple[str, str]]:
        queries = []
        tag_query = self._hashtag_query()
        if tag_query:
            queries.append(("hashtag", tag_query))
        left = min(self.x.reset - self._clock.now().timestamp(), MAX_RESET_WAIT) \
            if self.x.reset else MAX_RESET_WAIT
        chosen = self.budget.plan(self._conversations(), remaining=self.x.remaining,
                                  seconds_left=left, interval=self._poll_interval,
                                  has_hashtag=bool(tag_query))
        queries += [(f"conv:{c}", f"conversation_id:{c} -is:retweet") for c in chosen]
        return queries

    def _start_after(self) -> datetime | None:
        if self._start_time is None:
            return None
        return max(self._start_time, window_edge(self._clock.now()))

    async def _search_page(
        self, query: str, *, since_id: str | None, next_token: str | None, persistent: bool
    ) -> dict[str, Any]:
        return await self.x.search_retrying(
            query,
            sleep=self._sleep,
            backoff=self._backoff,
            persistent=persistent,
            since_id=since_id,
            start_time=None if since_id else self._start_after(),
            next_token=next_token,
            max_results=self._page_size,
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
        )

    async def _collect(self, key: str, query: str, *, persistent: bool) -> list[Event]:
        """Every new tweet for one query since its cursor, oldest first; moves the cursor."""
        since = self._cursors.get(key)
        newest = since
        token: str | None = None
        found: dict[str, Event] = {}
        searched_at = self._clock.now()
        tokens: set[str] = set()
        for page in range(1, MAX_SEARCH_PAGES + 1):
            body = await self._search_page(
                query, since_id=since, next_token=token, persistent=persistent
            )
            meta = obj(body.get("meta"))
            for event in self._page_events(body, query):
                # Keyed on the tweet version: an edit shares its original's message id.
                version = version_id(event.message) if event.message else event.message_id
                found.setdefault(version, event)
            newest_id = meta.get("newest_id")
            if isinstance(newest_id, str) and newest_id.isdigit() and len(newest_id) <= 20 \
                    and (newest is None or int(newest_id) > int(newest)):
                newest = newest_id
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if not token:
                break
            if token in tokens:
                log.warning("X: search for %r answered next_token %.40r twice; stopped "
                            "after %d pages", query, token, page)
                break
            tokens.add(token)
        else:
            gap = (f"the search for {query!r} still had pages after {MAX_SEARCH_PAGES}; "
                   "older tweets of that stretch were not read")
            log.warning("X: %s", gap)
            self.report_gap(gap)
        # The cursor moves only once every page is in, so an interruption never skips tweets.
        if newest is not None:
            self._cursors[key] = newest
        if not found:
            self._refresh(key, searched_at)
        fresh = {v: e for v, e in found.items() if v not in self._seen}
        self._seen.update(fresh)
        return [fresh[v] for v in sorted(fresh, key=int)]

    def _page_events(self, body: Mapping[str, Any], query: str) -> list[Event]:
        events = []
        for message in page_messages(body, query, me_id=self._me_id):
            if message.thread_id:
                self._conversation_of[message.id] = message.thread_id
            # A later version of an edited tweet is an edit of the original message: the
            # archive keeps one message, its old text in the edit history.
            kind: Literal["created", "edited"] = "edited" if message.edited else "created"
            at = message.edited or message.created
            events.append(Event(kind, "x", message.id, at, message=message))
        return events

    async def _collect_guarded(self, key: str, query: str, *, persistent: bool) -> list[Event]:
        """_collect, with X's refusals made plain: 403 means no search at this access level."""
        try:
            return await self._collect(key, query, persistent=persistent)
        except tweepy.Forbidden:
            self._search_unavailable()
            return []
        except tweepy.HTTPException as e:
            raise PlatformError(
                f"X search refused {query!r}: {api_message(e)}", retryable=False
            ) from e

    # ----------------------------------------------------------------- the contract

    async def events(self) -> AsyncIterator[Event]:
        """Poll until stop(); a refusal or spent credits end it with a PlatformError."""
        self.x.api  # noqa: B018 - raises the plain "not started" error early
        try:
            while not self._stopping.is_set():
                self._clamp()
                queries = self._queries()
                for key, query in queries:
                    if not self.can_search:
                        break
                    for event in await self._collect_guarded(key, query, persistent=True):
                        yield event
                if not self.can_search:
                    await self._stopping.wait()  # nothing to poll; posting still works
                    return
                handed_over = dict(self._cursors)
                await self._sleep(self.x.next_interval(self._poll_interval, len(queries)))
                self._acked.update(handed_over)
        except Stopped:
            return

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """Everything after the saved cursors that recent search can still reach."""
        self.x.api  # noqa: B018
        now = self._clock.now()
        for key, value in since.items():
            if key.startswith("conv:"):
                conversation = key.removeprefix("conv:")
                if conversation_too_old(conversation, now):
                    continue  # retired: nothing in it can be searched any more
                self.watch_conversation(conversation)
            current = self._cursors.get(key)
            if current is None or int(value) > int(current):
                self._cursors[key] = str(value)
        self._clamp()
        if self._welcome is None and self._watched:
            # After a restart: the newest conversation the host started is the welcome's.
            self._welcome = max(self._watched, key=int)
        events: list[Event] = []
        for key, query in self._queries():
            if not self.can_search:
                break
            events += await self._collect_guarded(key, query, persistent=False)
        events.sort(key=lambda e: int(e.message_id))
        return Backfill(events=tuple(events), cursor=dict(self._cursors))

    async def find_post(self, text: str, since: datetime) -> PostRef | None:
        """The account's own post of `text` since `since`, as X shows it.

        A few pages of the account's recent posts are read: how a post accepted before a
        crash, a timeout or a duplicate refusal is recognised.
        """
        if not self._handle or not self.can_search:
            return None
        wanted = with_hashtag(text, self.context.hashtag)
        start = max(since, window_edge(self._clock.now()))
        token: str | None = None
        for _ in range(FIND_PAGES):
            query = f"from:{self._handle} -is:retweet"
            body = await self.x.search_retrying(
                query, sleep=self._sleep, backoff=self._backoff, persistent=False,
                start_time=start, next_token=token, max_results=100, tweet_fields=TWEET_FIELDS)
            # Compared as readers see it (unescaped, links expanded), as the post was sent.
            for message in page_messages(body, query, me_id=self._me_id):
                if message.text == wanted and message.author.id == self._me_id:
                    return PostRef("x", message.id, thread_id=message.thread_id or message.id,
                                   url=f"https://x.com/{self._handle}/status/{message.id}")
            token = body.get("meta", {}).get("next_token")
            if not token:
                return None
        return None
