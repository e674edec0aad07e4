"""The Mastodon adapter: Mastodon.py behind the Platform contract.

Posting uses the chosen visibility (public or unlisted), the chat's content warning when
the script asks for one, questions optionally threaded under the welcome, and an
Idempotency-Key so a retried post that had in fact gone through is not posted twice.
The status length is checked against the instance's own limits (/api/v2/instance).

Collecting polls (streaming is not used: polling works on every instance and token),
at an interval stretched to fit the X-RateLimit window the instance reports:
the hashtag timeline from the last id seen upwards (min_id pages, followed through the
Link header's rel="prev"), and each host post's context for replies that drop the tag.
In a watched thread a changed `edited_at` is an edit and a status that vanished (and
answers 404 when asked for) is a delete. Boosts are never answers.

Moderation: Mastodon lets no one hide another person's reply. The bot can delete its own
posts, report a status to the instance's moderators, and mute (a timeout) or block an
account from the bot's own account; anything else is refused with the reason, which the
engine turns into a flag for the chat's moderators.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.platforms.base import (
    Capabilities,
    ChatContext,
    PlatformError,
    PlatformServices,
)
from bot.platforms.mastodon.client import (
    InstanceLimits,
    MastodonClient,
    MastodonCredentials,
)
from bot.platforms.mastodon.statuses import PLATFORM, BadStatus, status_message
from bot.platforms.mastodon.text import countable_length, with_hashtag
from bot.platforms.polling import Poller, Stopped, next_interval
from bot.platforms.posting import FeedPlatform
from bot.platforms.x.client import as_bool, as_float
from bot.records import Action, ActionResult, Backfill, Event, Message, PostRef

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)
MAX_PAGES = 50  # a cycle reads at most this many timeline pages (40 statuses each)
VISIBILITIES = ("public", "unlisted")


def build(context: ChatContext, services: PlatformServices) -> MastodonPlatform:
    """The registry's factory: secrets and [mastodon] settings under the script's own values."""
    return MastodonPlatform.from_settings(context, services.settings, clock=services.clock)


class MastodonPlatform(FeedPlatform):
    """One chat on one Mastodon account."""

    name = PLATFORM
    capabilities = Capabilities(threads=True, edits=True, deletes=True, max_length=500,
                                actions=frozenset({"delete", "report", "timeout", "mute",
                                                   "block", "signpost"}))

    def __init__(self, context: ChatContext, *, api_base_url: str | None = None,
                 access_token: str | None = None, clock: Clock | None = None) -> None:
        super().__init__(context)
        s = context.settings
        self._clock = clock or Clock()
        self.client = MastodonClient(
            MastodonCredentials(api_base_url or s.get("api_base_url"), access_token),
            timeout=as_float(s.get("request_timeout"), 20.0), clock=self._clock)
        self._poll = Poller("Mastodon", self._clock, base=as_float(s.get("backoff_base"), 1.0),
                            cap=as_float(s.get("backoff_cap"), 300.0),
                            attempts=int(as_float(s.get("backfill_attempts"), 5)))
        self._poll_interval = as_float(s.get("poll_interval"), 20.0)
        self._page_size = max(1, min(40, int(as_float(s.get("page_size"), 40))))
        self._watch_seconds = as_float(s.get("watch_hours"), 6.0) * 3600
        self._thread_questions = as_bool(s.get("thread_questions", False))
        self._share_transcript = as_bool(s.get("share_transcript", True))
        self._warning = str(s.get("content_warning") or "")[:500]
        visibility = str(s.get("visibility") or "public").lower()
        self._visibility = visibility if visibility in VISIBILITIES else "public"
        self._tag = context.hashtag.strip().lstrip("#").lower()
        self.limits = InstanceLimits()
        self.me_id = ""
        self.acct = ""
        self._nonce = secrets.token_hex(8)  # one per process: retries reuse a key, runs don't
        self._min_id: str | None = None  # the newest hashtag status id seen
        self._acked: dict[str, str] = {}
        self._watched: dict[str, str] = {}  # root status id -> when watching began (ISO)
        self._members: dict[str, dict[str, str]] = {}  # root -> {status id: edited_at or ""}
        self._roots: dict[str, str] = {}
        self._authors: dict[str, str] = {}  # status id -> account id (for report/mute/block)
        self._accts: dict[str, str] = {}  # status id -> user@domain (for a private signpost)
        self._seen: set[str] = set()
        self._welcome: str | None = None

    @classmethod
    def from_settings(cls, context: ChatContext, settings: Settings, *,
                      clock: Clock | None = None) -> MastodonPlatform:
        """As `tweetchat run` builds it: secrets and [mastodon] settings, then the chat's own."""
        m = settings.mastodon
        merged: dict[str, Any] = {"api_base_url": m.api_base_url, "poll_interval": m.poll_seconds,
                                  "visibility": m.visibility}
        merged.update(context.settings)
        token = settings.secrets.mastodon_access_token
        ctx = ChatContext(context.chat_id, context.title, context.hashtag, merged,
                          context.host_name)
        return cls(ctx, api_base_url=str(merged.get("api_base_url") or ""),
                   access_token=token.get_secret_value() if token else None, clock=clock)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Check the token, learn the account and start from the saved position."""
        self.client.open()
        try:
            me = await self.client.verify()
        except PlatformError as e:
            from bot.platforms.base import PlatformSetupError

            raise PlatformSetupError(f"Mastodon: cannot start at {self.client.base_url}: {e}"
                                     ) from e
        self.me_id, self.acct = str(me["id"]), str(me.get("acct", ""))
        self.limits = await self.client.limits()
        log.info("Mastodon: posting as @%s on %s (limit %d characters)", self.acct,
                 self.client.base_url, self.limits.max_characters)
        self._poll.stopping.clear()

    async def stop(self) -> None:
        """Stop polling and drop the client."""
        self._poll.stopping.set()
        self.client.close()

    def live_cursor(self) -> Mapping[str, str] | None:
        """The positions of everything handed over and acknowledged so far, or None."""
        return dict(self._acked) or None

    def _cursor(self) -> dict[str, str]:
        cursor = {f"thread:{sid}": since for sid, since in self._watched.items()}
        if self._min_id:
            cursor["min_id"] = self._min_id
        return cursor

    def watch(self, status_id: str) -> None:
        """Also collect the replies under this status (the host's, also after a restart)."""
        if status_id not in self._watched:
            self._watched[status_id] = self._clock.now().isoformat()
            self._acked[f"thread:{status_id}"] = self._watched[status_id]

    # ----------------------------------------------------------------- posting

    def _watch_posted(self, thread_id: str) -> None:
        self.watch(thread_id)

    async def _create(self, text: str, reply_to: str | None) -> PostRef:
        text = with_hashtag(text.strip(), self.context.hashtag)
        size = countable_length(text, self.limits.characters_reserved_per_url) + \
            countable_length(self._warning, self.limits.characters_reserved_per_url)
        if size > self.limits.max_characters:
            raise PlatformError(
                f"Mastodon post is {size} characters with the hashtag and content warning; "
                f"this instance allows {self.limits.max_characters}: shorten it in the script",
                retryable=False)
        key = hashlib.sha256(f"{self._nonce}|{reply_to}|{text}".encode()).hexdigest()[:32]
        status = await self.client.post(text, reply_to=reply_to, visibility=self._visibility,
                                        spoiler=self._warning, key=key)
        sid = str(status["id"])
        root = self._roots.get(reply_to, reply_to) if reply_to else sid
        self._roots[sid] = root or sid
        self._seen.add(sid)
        url = status.get("url") if isinstance(status.get("url"), str) else None
        # Each post opens its own thread for attribution (see the Bluesky adapter).
        return PostRef(PLATFORM, sid, thread_id=sid, url=url)

    # ----------------------------------------------------------------- collecting

    def _message(self, status: Any, source: str, root: str | None = None) -> Message | None:
        try:
            message = status_message(status, {"status": status, "source": source},
                                     me=self.me_id, thread_id=root)
        except BadStatus as e:
            log.info("Mastodon: skipped a status (%s)", e)
            return None
        if message is None:
            return None  # a boost
        self._authors[message.id] = message.author.id
        if message.author.handle:
            self._accts[message.id] = message.author.handle
        if message.thread_id is None and message.reply_to:
            parent_root = self._roots.get(message.reply_to, message.reply_to)
            message = _with_thread(message, parent_root)
        self._roots[message.id] = message.thread_id or message.id
        return message

    def _fresh(self, messages: list[Message]) -> list[Event]:
        events = []
        for m in messages:
            if m.id not in self._seen:
                self._seen.add(m.id)
                events.append(Event("created", PLATFORM, m.id, m.created, message=m))
        return events

    async def _timeline(self, *, persistent: bool) -> list[Event]:
        if not self._tag:
            return []
        found: list[Message] = []
        min_id = self._min_id
        for _ in range(MAX_PAGES):
            statuses, after = await self._poll.retrying(
                lambda m=min_id: self.client.tag_page(  # type: ignore[misc]
                    self._tag, m, self._page_size),
                persistent=persistent)
            if not statuses:
                break
            for status in statuses:
                message = self._message(status, "timelines/tag")
                if message is not None:
                    found.append(message)
            ids = [int(s["id"]) for s in statuses if isinstance(s, dict)
                   and str(s.get("id", "")).isdigit()]
            if not ids:
                break
            fresh_start = min_id is None
            # The Link header's rel="prev" names the next page up; the page's newest id
            # is the same place when an instance sends no header.
            min_id = after if after and int(after) >= max(ids) else str(max(ids))
            if fresh_start or len(statuses) < self._page_size:
                break  # a fresh start reads only the newest page; a short page is the top
        self._min_id = min_id  # moved only once every page is in
        return self._fresh(sorted(found, key=lambda m: int(m.id)))

    def _live_roots(self) -> list[str]:
        horizon = (self._clock.now() - timedelta(seconds=self._watch_seconds)).isoformat()
        return [sid for sid, since in self._watched.items() if since >= horizon]

    async def _threads(self, *, persistent: bool) -> list[Event]:
        events: list[Event] = []
        for root in self._live_roots():
            body = await self._poll.retrying(
                lambda r=root: self.client.context(r),  # type: ignore[misc]
                persistent=persistent)
            if body is None:
                continue
            descendants = body.get("descendants")
            messages = [m for s in (descendants if isinstance(descendants, list) else [])
                        if (m := self._message(s, "statuses/context", root)) is not None]
            known = self._members.setdefault(root, {})
            for m in messages:
                edited = m.edited.isoformat() if m.edited else ""
                if m.id in known and known[m.id] != edited:
                    events.append(Event("edited", PLATFORM, m.id, m.edited or m.created,
                                        message=m))
                known[m.id] = edited
            events += self._fresh(messages)
            present = {m.id for m in messages}
            for sid in sorted(set(known) - present, key=int):
                if await self._poll.retrying(
                        lambda s=sid: self.client.status(s),  # type: ignore[misc]
                        persistent=persistent) is None:
                    del known[sid]
                    events.append(Event("deleted", PLATFORM, sid, self._clock.now()))
        return events

    async def _cycle(self, *, persistent: bool) -> list[Event]:
        events = await self._timeline(persistent=persistent)
        return events + await self._threads(persistent=persistent)

    async def events(self) -> AsyncIterator[Event]:
        """Poll the hashtag timeline and watched threads until stopped, yielding what is new."""
        self.client.api  # noqa: B018 - the plain "not started" error first
        try:
            while not self._poll.stopping.is_set():
                for event in await self._cycle(persistent=True):
                    yield event
                handed_over = self._cursor()
                await self._poll.sleep(next_interval(
                    self._poll_interval, self.client.remaining, self.client.reset,
                    self._clock.now().timestamp(), 1 + len(self._live_roots())))
                self._acked.update(handed_over)
        except Stopped:
            return
        except PlatformError:
            if self._poll.stopping.is_set():
                return  # stop() closed the client under a request: the stream just ends
            raise

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """What was posted after the saved positions (hashtag timeline and watched threads)."""
        self.client.api  # noqa: B018
        for key, value in since.items():
            if key == "min_id" and value.isdigit() and \
                    (self._min_id is None or int(value) > int(self._min_id)):
                self._min_id = value
            elif key.startswith("thread:"):
                self._watched.setdefault(key.removeprefix("thread:"), value)
        if self._welcome is None and self._watched:
            self._welcome = min(self._watched, key=int)
        events = await self._cycle(persistent=False)
        return Backfill(events=tuple(events), cursor=self._cursor())

    # ----------------------------------------------------------------- moderation

    async def act(self, action: Action) -> ActionResult:
        """Carry out a moderation action on a status; say so when Mastodon cannot."""
        if action.kind == "hide":
            return ActionResult(False, "Mastodon lets no one hide another person's reply; "
                                "report it or mute the author; flagged for moderators")
        if action.kind not in self.capabilities.actions:
            return ActionResult(False, f"Mastodon cannot {action.kind}; flagged for moderators")
        sid = action.message_id
        try:
            if action.kind == "signpost":
                return await self._signpost(sid, action.text or "")
            if action.kind == "delete":
                if not sid or self._authors.get(sid, self.me_id) != self.me_id:
                    return ActionResult(False, "Mastodon deletes only the bot's own posts; "
                                        "report this one instead")
                await self.client.delete(sid)
                return ActionResult(True, f"the bot's status {sid} deleted on Mastodon")
            account = action.author_id or (self._authors.get(sid) if sid else None)
            if account is None and sid:
                status = await self.client.status(sid)
                account = str((status or {}).get("account", {}).get("id") or "") or None
            if not account:
                return ActionResult(False, f"Mastodon {action.kind} needs the account")
            if action.kind == "report":
                await self.client.report(account, sid, action.reason or "reported by the "
                                         "chat's moderators")
                return ActionResult(True, f"status {sid} reported to the instance's moderators")
            if action.kind == "block":
                await self.client.block(account)
                return ActionResult(True, f"account {account} blocked by the bot's account")
            seconds = action.minutes * 60 if action.kind == "timeout" and action.minutes else None
            await self.client.mute(account, seconds)
            return ActionResult(True, f"account {account} muted by the bot's account"
                                + (f" for {action.minutes} minutes" if seconds else ""))
        except PlatformError as e:
            return ActionResult(False, f"Mastodon refused to {action.kind}: {e}")

    async def _signpost(self, status_id: str | None, text: str) -> ActionResult:
        """A private word to the author: a direct-visibility status that mentions only them."""
        acct = self._accts.get(status_id or "")
        if acct is None and status_id:
            status = await self.client.status(status_id)
            acct = str((status or {}).get("account", {}).get("acct") or "") or None
        if not acct or not text.strip():
            return ActionResult(False, "Mastodon signpost needs the author and the text")
        words = f"@{acct} {text.strip()}"
        room = self.limits.max_characters
        if countable_length(words, self.limits.characters_reserved_per_url) > room:
            words = words[:room - 1] + "…"
        key = hashlib.sha256(f"{self._nonce}|signpost|{status_id}".encode()).hexdigest()[:32]
        await self.client.post(words, reply_to=None, visibility="direct", spoiler="", key=key)
        return ActionResult(True, f"a private signpost sent to @{acct}")


def _with_thread(message: Message, thread_id: str) -> Message:
    from dataclasses import replace

    return replace(message, thread_id=thread_id)
