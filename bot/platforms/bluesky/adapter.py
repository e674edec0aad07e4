"""The Bluesky adapter: the atproto SDK behind the Platform contract.

Posting creates app.bsky.feed.post records with rich-text facets (byte offsets) and, for
questions threaded under the welcome, reply refs {root, parent} each {uri, cid}. Bluesky
has no push for a hashtag without a firehose, so `events()` polls: searchPosts for the tag
(newest first, paged by cursor back to the last post seen) and getPostThread on each post
the host made (replies often drop the hashtag). A post that was in a thread and is no
longer there is looked up once more and, if it is gone, reported as deleted. Polling
stretches to fit the rate-limit window the answers report; a 429 waits for the reset; 5xx
and timeouts back off exponentially. Bluesky has no edits.

Moderation: a reply in a thread the bot started is hidden through the root's threadgate
(`hiddenReplies`, at most 300); the bot's own posts can be deleted; anything can be
reported; whatever else is asked is refused with a reason, which the engine turns into a
flag for the moderators.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.platforms.base import (
    Capabilities,
    ChatContext,
    PlatformError,
    PlatformServices,
)
from bot.platforms.bluesky.client import (
    DEFAULT_SERVICE,
    MAX_HIDDEN,
    THREADGATE,
    BlueskyClient,
    BlueskyCredentials,
    did_of,
    iso_time,
    now_iso,
)
from bot.platforms.bluesky.live import JetstreamCollecting
from bot.platforms.bluesky.posts import (
    PLATFORM,
    BadPost,
    cid_of,
    feed_views,
    post_url,
    thread_views,
    view_message,
)
from bot.platforms.bluesky.text import MAX_GRAPHEMES, facets_for, mentions, prepare
from bot.platforms.payload import parse_time
from bot.platforms.polling import Poller
from bot.platforms.posting import FeedPlatform
from bot.platforms.recent import RecentMap, RecentSet
from bot.platforms.x.client import as_bool, as_float
from bot.records import Action, ActionResult, Backfill, Event, Message, PostRef

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)
MAX_SEARCH_PAGES = 20
# searchPosts filters `since` on sortAt, the earlier of createdAt and indexedAt, while the
# cursor is the newest indexedAt read: an answer written a little before an earlier one was
# indexed (indexing lag, a slow phone clock) sorts before the cursor. Each search reaches
# back this far; what it finds again is already seen.
SEARCH_OVERLAP_MINUTES = 5.0
FIND_PAGES = 3  # pages of the account's own feed read when looking for a post


def build(context: ChatContext, services: PlatformServices) -> BlueskyPlatform:
    """The registry's factory: secrets and [bluesky] settings under the script's own values."""
    return BlueskyPlatform.from_settings(context, services.settings, clock=services.clock)


class BlueskyPlatform(JetstreamCollecting, FeedPlatform):
    """One chat on Bluesky, as one account (handle + app password)."""

    name = PLATFORM
    capabilities = Capabilities(threads=True, deletes=True, hiding=True,
                                max_length=MAX_GRAPHEMES,
                                actions=frozenset({"hide", "restore", "delete", "report",
                                                   "mute", "block", "signpost"}))

    def __init__(self, context: ChatContext, *, handle: str | None = None,
                 app_password: str | None = None, service: str | None = None,
                 clock: Clock | None = None) -> None:
        super().__init__(context)
        s = context.settings
        self._clock = clock or Clock()
        self.client = BlueskyClient(BlueskyCredentials(handle, app_password),
                                    service or str(s.get("service") or DEFAULT_SERVICE),
                                    timeout=as_float(s.get("request_timeout"), 20.0),
                                    clock=self._clock)
        self._poll_interval = as_float(s.get("poll_interval"), 20.0)
        self._poll = Poller("Bluesky", self._clock, base=as_float(s.get("backoff_base"), 1.0),
                            cap=as_float(s.get("backoff_cap"), 300.0),
                            attempts=int(as_float(s.get("backfill_attempts"), 5)))
        self._lookback = as_float(s.get("lookback_seconds"), 0.0)
        self._overlap = timedelta(minutes=as_float(s.get("search_overlap_minutes"),
                                                   SEARCH_OVERLAP_MINUTES))
        self._page_size = max(1, min(100, int(as_float(s.get("page_size"), 100))))
        self._watch_seconds = as_float(s.get("watch_hours"), 6.0) * 3600
        self._thread_questions = as_bool(s.get("thread_questions", False))
        self._share_transcript = as_bool(s.get("share_transcript", True))
        self._tag = context.hashtag.strip().lstrip("#")
        self._jetstream = str(s.get("jetstream") or "")  # e.g. wss://jetstream2.../subscribe
        self._jetstream_retry = as_float(s.get("jetstream_retry_seconds"), 60.0)
        self._jetstream_retry_at = 0.0
        self._jetstream_us: int | None = None  # time_us of the last commit read
        self._since: str | None = None  # newest indexedAt the hashtag search has reached
        self._acked: dict[str, str] = {}
        self._watched: dict[str, str] = {}  # root uri -> when watching began (ISO)
        self._members: dict[str, set[str]] = {}  # root uri -> post uris seen in its thread
        self._cids: RecentMap[str, str] = RecentMap()
        self._roots: RecentMap[str, str] = RecentMap()  # post uri -> its thread's root uri
        self._seen: RecentSet[str] = RecentSet()
        self._welcome: str | None = None  # the uri questions reply under (cid in _cids)

    @classmethod
    def from_settings(cls, context: ChatContext, settings: Settings, *,
                      clock: Clock | None = None) -> BlueskyPlatform:
        """As `tweetchat run` builds it: secrets and [bluesky] settings, then the chat's own."""
        creds = BlueskyCredentials.from_secrets(settings.secrets)
        b = settings.bluesky
        merged: dict[str, Any] = {"service": b.service, "poll_interval": b.poll_seconds,
                                  "lookback_seconds": b.backfill_window_minutes * 60,
                                  "jetstream": b.jetstream}
        merged.update(context.settings)
        ctx = ChatContext(context.chat_id, context.title, context.hashtag, merged,
                          context.host_name)
        return cls(ctx, handle=creds.handle, app_password=creds.app_password,
                   service=str(merged["service"]), clock=clock)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Log in and start watching the hashtag from the saved position (or the lookback)."""
        await self.client.close()
        await self.client.login()
        log.info("Bluesky: posting as @%s (%s)", self.client.handle, self.client.did)
        self._poll.stopping.clear()
        if self._since is None:
            self._since = iso_time(self._clock.now() - timedelta(seconds=self._lookback))

    async def stop(self) -> None:
        """Stop polling and close the HTTP pool."""
        self._poll.stopping.set()
        await self.client.close()

    def live_cursor(self) -> Mapping[str, str] | None:
        """The positions of everything handed over and acknowledged so far, or None."""
        return dict(self._acked) or None

    def _cursor(self) -> dict[str, str]:
        cursor = {f"thread:{uri}": since for uri, since in self._watched.items()}
        if self._since:
            cursor["since"] = self._since
        return cursor

    def watch(self, root_uri: str, cid: str | None = None) -> None:
        """Also collect the replies under this post (the host's posts, also after a restart)."""
        if cid:
            self._cids[root_uri] = cid
        if root_uri not in self._watched:
            self._watched[root_uri] = iso_time(self._clock.now())
            self._acked[f"thread:{root_uri}"] = self._watched[root_uri]

    # ----------------------------------------------------------------- posting

    def _watch_posted(self, thread_id: str) -> None:
        self.watch(thread_id)

    @property
    def account_id(self) -> str | None:
        """The DID the bot's posts carry, once logged in."""
        return self.client.did or None

    def as_sent(self, text: str) -> str:
        """`text` as posted: NFC, the hashtag appended when missing."""
        return prepare(text, self.context.hashtag).text

    async def find_post(self, text: str, since: datetime) -> PostRef | None:
        """The bot's own post of `text` since `since`, read from its author feed."""
        if not self.client.did:
            return None
        wanted, cursor = self.as_sent(text), None
        for _ in range(FIND_PAGES):
            body = await self.client.author_feed(self.client.did, cursor)
            for view in feed_views(body):
                message = self._message(view, "getAuthorFeed")
                if message is not None and message.author.id == self.client.did and \
                        message.created >= since and message.text == wanted:
                    return PostRef(PLATFORM, message.id, thread_id=message.id,
                                   url=post_url(message.id, self.client.handle))
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not cursor:
                return None
        return None

    async def _create(self, text: str, reply_to: str | None) -> PostRef:
        prepared = prepare(text, self.context.hashtag)
        if prepared.problem:
            raise PlatformError(f"Bluesky post is {prepared.problem}: shorten it in the chat "
                                "script", retryable=False)
        handles = set(mentions(prepared.text))
        dids = {h: await self.client.resolve_handle(h) for h in handles}
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": prepared.text,
                                  "createdAt": now_iso(self._clock), "langs": ["en"]}
        facets = facets_for(prepared.text, dids.get)
        if facets:
            record["facets"] = facets
        root_uri = None
        if reply_to is not None:
            parent_cid = self._cids.get(reply_to, "")
            root_uri = self._roots.get(reply_to, reply_to)
            root = {"uri": root_uri, "cid": self._cids.get(root_uri, parent_cid)}
            record["reply"] = {"root": root, "parent": {"uri": reply_to, "cid": parent_cid}}
        uri, cid = await self.client.create_post(record)
        self._cids[uri] = cid
        self._roots[uri] = root_uri or uri
        self._seen.add(uri)
        # Each post opens its own thread for attribution, even one hanging under the
        # welcome: replies to a question then follow their reply chain to it instead of
        # all landing on whichever question last shared the welcome's root.
        return PostRef(PLATFORM, uri, thread_id=uri, url=post_url(uri, self.client.handle))

    # ----------------------------------------------------------------- collecting

    def _message(self, view: Mapping[str, Any], source: str) -> Message | None:
        try:
            message = view_message(view, {"post": dict(view), "source": source},
                                   me=self.client.did, fallback_time=self._clock.now())
        except BadPost as e:
            log.info("Bluesky: skipped a post view (%s)", e)
            return None
        except Exception:  # a converter bug met by one hostile post must cost only that post
            log.warning("Bluesky: skipped a post view that could not be read", exc_info=True)
            return None
        cid = cid_of(view)
        if cid:
            self._cids[message.id] = cid
        if message.thread_id:
            self._roots[message.id] = message.thread_id
        return _under_questions(message, self._welcome)

    def _fresh(self, messages: list[Message]) -> list[Event]:
        events = []
        for m in messages:
            if m.id in self._seen:
                continue
            self._seen.add(m.id)
            events.append(Event("created", PLATFORM, m.id, m.created, message=m))
        return events

    async def _search(self, *, persistent: bool) -> list[Event]:
        if not self._tag:
            return []
        found: list[Message] = []
        cursor: str | None = None
        newest = self._since
        since = self._search_since()
        for _ in range(MAX_SEARCH_PAGES):
            body = await self._poll.retrying(
                lambda c=cursor: self.client.search(  # type: ignore[misc]
                    self._tag, since=since, cursor=c, limit=self._page_size),
                persistent=persistent)
            for view in feed_views(body):
                indexed = view.get("indexedAt")
                if isinstance(indexed, str) and parse_time(indexed) and \
                        (newest is None or indexed > newest):
                    newest = indexed
                message = self._message(view, "searchPosts")
                if message is not None:
                    found.append(message)
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not cursor:
                break
        self._since = newest  # moved only once every page is in
        return self._fresh(found)

    def _search_since(self) -> str | None:
        """The cursor less the overlap, as searchPosts' `since` (see SEARCH_OVERLAP_MINUTES)."""
        at = parse_time(self._since)
        try:
            return iso_time(at - self._overlap) if at else self._since
        except OverflowError:  # a cursor at the start of the calendar: nothing is earlier
            return self._since

    def _live_roots(self) -> list[str]:
        horizon = iso_time(self._clock.now() - timedelta(seconds=self._watch_seconds))
        return [uri for uri, since in self._watched.items() if since >= horizon]

    async def _threads(self, *, persistent: bool) -> list[Event]:
        events: list[Event] = []
        vanished: list[str] = []
        for root in self._live_roots():
            body = await self._poll.retrying(lambda r=root: self.client.thread(r),  # type: ignore[misc]
                                        persistent=persistent)
            if body is None:
                continue  # the root itself is gone: nothing under it to read
            messages = [m for v in thread_views(body.get("thread"))
                        if (m := self._message(v, "getPostThread")) is not None]
            present = {m.id for m in messages}
            known = self._members.setdefault(root, set())
            vanished += sorted(known - present)
            known |= present
            events += self._fresh([m for m in messages if m.id != root])
        events += await self._confirm_deleted(vanished, persistent=persistent)
        return events

    async def _confirm_deleted(self, uris: list[str], *, persistent: bool) -> list[Event]:
        """Ask for posts missing from a thread, which may only hang under a deleted parent.

        Those the service no longer has are reported as deleted.
        """
        gone: list[Event] = []
        for i in range(0, len(uris), 25):
            batch = uris[i:i + 25]
            body = await self._poll.retrying(lambda b=batch: self.client.posts(b),  # type: ignore[misc]
                                        persistent=persistent)
            still = {v.get("uri") for v in feed_views(body)}
            for uri in batch:
                if uri not in still:
                    for members in self._members.values():
                        members.discard(uri)
                    gone.append(Event("deleted", PLATFORM, uri, self._clock.now()))
        return gone

    async def _cycle(self, *, persistent: bool) -> list[Event]:
        events = await self._search(persistent=persistent)
        events += await self._threads(persistent=persistent)
        return sorted(events, key=lambda e: (e.kind != "deleted", e.at))

    async def events(self) -> AsyncIterator[Event]:
        """Jetstream where configured, else poll search and threads; what is new, until stopped."""
        self.client.sdk  # noqa: B018 - the plain "not started" error before anything else
        with self._poll.until_stopped():
            while not self._poll.stopping.is_set():
                reader = await self._open_jetstream()
                if reader is not None:
                    async for event in self._jetstreamed(reader):
                        yield event
                    continue
                async for event in self._poll.one_cycle(
                        lambda: self._cycle(persistent=True), self._cursor, self._acked,
                        lambda: self.client.next_interval(self._poll_interval,
                                                          1 + len(self._live_roots()))):
                    yield event

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """What was posted after the saved positions (hashtag search and watched threads)."""
        self.client.sdk  # noqa: B018
        for key, value in since.items():
            if key == "since" and (self._since is None or value > self._since):
                self._since = value
            elif key.startswith("thread:"):
                uri = key.removeprefix("thread:")
                self._watched.setdefault(uri, value)
        if self._welcome is None and self._watched:
            first = min(self._watched, key=lambda u: self._watched[u])
            if did_of(first) == self.client.did:
                body = await self.client.posts([first])
                for view in feed_views(body):
                    if view.get("uri") == first and cid_of(view):
                        self._cids[first] = str(cid_of(view))
                        self._welcome = first
        events = await self._cycle(persistent=False)
        return Backfill(events=tuple(events), cursor=self._cursor())

    # ----------------------------------------------------------------- moderation

    async def _view_of(self, uri: str) -> Mapping[str, Any] | None:
        body = await self.client.posts([uri])
        return next((v for v in feed_views(body) if v.get("uri") == uri), None)

    async def act(self, action: Action) -> ActionResult:
        """Carry out a moderation action on a post; say so when Bluesky cannot."""
        uri = action.message_id
        if action.kind not in self.capabilities.actions:
            return ActionResult(False, f"Bluesky cannot {action.kind}; flagged for moderators")
        if action.kind in ("mute", "block", "signpost"):
            return await self._from_account(action)
        if not uri or not uri.startswith("at://"):
            return ActionResult(False, f"Bluesky {action.kind} needs the post's at:// uri")
        try:
            if action.kind == "delete" and did_of(uri) == self.client.did:
                await self.client.delete_post(uri)
                return ActionResult(True, f"the bot's post {uri} deleted on Bluesky")
            if action.kind == "report":
                return await self._report(uri, action.reason)
            return await self._gate(uri, hide=action.kind != "restore")
        except PlatformError as e:
            return ActionResult(False, f"Bluesky refused to {action.kind} {uri}: {e}")

    async def _from_account(self, action: Action) -> ActionResult:
        """Mute, block or write privately to the author (their DID, or the post's)."""
        author = action.author_id or ""
        uri = action.message_id or ""
        did = author if author.startswith("did:") else did_of(uri) if uri.startswith("at://") \
            else ""
        if not did or did == self.client.did:
            return ActionResult(False, f"Bluesky {action.kind} needs another account's DID")
        try:
            if action.kind == "signpost":
                return await self._signpost(did, action.text or "")
            if action.kind == "mute":
                await self.client.mute(did)
                return ActionResult(True, f"{did} muted by the bot's account")
            await self.client.block(did, now_iso(self._clock))
            return ActionResult(True, f"{did} blocked by the bot's account")
        except PlatformError as e:
            return ActionResult(False, f"Bluesky refused to {action.kind} {did}: {e}")

    async def _signpost(self, did: str, text: str) -> ActionResult:
        """A private word to the author: a direct message through Bluesky's chat service."""
        if not text.strip():
            return ActionResult(False, "a signpost needs its text")
        try:
            await self.client.send_dm(did, text.strip())
        except PlatformError as e:
            return ActionResult(False, f"Bluesky's chat service refused the direct message "
                                f"({e}); an app password needs direct-message access "
                                "(docs/bluesky.md), and the person may not take messages")
        return ActionResult(True, f"a private signpost sent to {did} by direct message")

    async def _report(self, uri: str, reason: str) -> ActionResult:
        cid = self._cids.get(uri)
        if cid is None:
            view = await self._view_of(uri)
            cid = cid_of(view) if view else None
        if cid is None:
            return ActionResult(False, f"{uri} is gone; nothing to report")
        await self.client.report(uri, cid, reason or "reported by the chat's moderators")
        return ActionResult(True, f"{uri} reported to Bluesky's moderators")

    async def _gate(self, uri: str, *, hide: bool) -> ActionResult:
        root = self._roots.get(uri)
        if root is None:
            view = await self._view_of(uri)
            message = self._message(view, "getPosts") if view else None
            root = message.thread_id if message else None
        if root is None or root == uri:
            return ActionResult(False, f"{uri} is not a reply; Bluesky hides only replies")
        if did_of(root) != self.client.did:
            return ActionResult(False, "the thread was not started by the bot, so Bluesky "
                                "lets only its author hide replies; flagged for moderators")
        gate = await self.client.get_threadgate(root) or {
            "$type": THREADGATE, "post": root, "createdAt": now_iso(self._clock)}
        hidden = [u for u in gate.get("hiddenReplies") or [] if isinstance(u, str)]
        if hide and uri not in hidden:
            if len(hidden) >= MAX_HIDDEN:
                return ActionResult(False, f"the thread already hides {MAX_HIDDEN} replies, "
                                    "Bluesky's limit; report the post instead")
            hidden.append(uri)
        elif not hide:
            hidden = [u for u in hidden if u != uri]
        gate["hiddenReplies"] = hidden
        await self.client.put_threadgate(root, gate)
        return ActionResult(True, f"reply {uri} {'hidden' if hide else 'shown again'} on Bluesky")


def _under_questions(message: Message, welcome: str | None) -> Message:
    """Drop the welcome as thread root when questions are threaded under it.

    The welcome's root says nothing about which question a reply answers: without it,
    attribution follows the reply chain.
    """
    if welcome and message.thread_id == welcome and message.reply_to not in (None, welcome):
        return replace(message, thread_id=None)
    return message
