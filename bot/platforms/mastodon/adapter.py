"""The Mastodon adapter: Mastodon.py behind the Platform contract.

Posting uses the chosen visibility (public or unlisted), the chat's content warning when
the script asks for one, questions optionally threaded under the welcome, and an
Idempotency-Key so a retried post that had in fact gone through is not posted twice.
The status length is checked against the instance's own limits (/api/v2/instance).

Collecting (the hashtag stream where the instance allows it, polling otherwise, and the
host's threads) lives in bot.platforms.mastodon.collecting.

Moderation: Mastodon lets no one hide another person's reply. The bot can delete its own
posts, report a status to the instance's moderators, and mute (a timeout) or block an
account from the bot's own account; anything else is refused with the reason, which the
engine turns into a flag for the chat's moderators.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
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
from bot.platforms.mastodon.collecting import TagCollecting
from bot.platforms.mastodon.statuses import PLATFORM
from bot.platforms.mastodon.text import countable_length, with_hashtag
from bot.platforms.polling import Poller
from bot.platforms.posting import FeedPlatform
from bot.platforms.recent import RecentMap, RecentSet
from bot.platforms.x.client import as_bool, as_float
from bot.records import Action, ActionResult, PostRef

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)
VISIBILITIES = ("public", "unlisted")


def build(context: ChatContext, services: PlatformServices) -> MastodonPlatform:
    """The registry's factory: secrets and [mastodon] settings under the script's own values."""
    return MastodonPlatform.from_settings(context, services.settings, clock=services.clock)


class MastodonPlatform(TagCollecting, FeedPlatform):
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
        self._members: dict[str, set[str]] = {}  # root -> the status ids seen in its thread
        self._edits: RecentMap[str, str] = RecentMap()
        self._roots: RecentMap[str, str] = RecentMap()
        # status id -> account id (for report/mute/block), -> user@domain (for a signpost)
        self._authors: RecentMap[str, str] = RecentMap()
        self._accts: RecentMap[str, str] = RecentMap()
        self._seen: RecentSet[str] = RecentSet()
        self._welcome: str | None = None
        self._streaming = as_bool(s.get("streaming", True))
        self._stream_retry = as_float(s.get("stream_retry_seconds"), 60.0)
        self._stream_quiet = as_float(s.get("stream_quiet_seconds"), 90.0)  # heartbeats: 15 s
        self._stream_retry_at = 0.0

    @classmethod
    def from_settings(cls, context: ChatContext, settings: Settings, *,
                      clock: Clock | None = None) -> MastodonPlatform:
        """As `tweetchat run` builds it: secrets and [mastodon] settings, then the chat's own."""
        m = settings.mastodon
        merged: dict[str, Any] = {"api_base_url": m.api_base_url, "poll_interval": m.poll_seconds,
                                  "visibility": m.visibility, "streaming": m.streaming}
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
        self._authors[sid] = self.me_id
        root = self._roots.get(reply_to, reply_to) if reply_to else sid
        self._roots[sid] = root or sid
        self._seen.add(sid)
        url = status.get("url") if isinstance(status.get("url"), str) else None
        # Each post opens its own thread for attribution (see the Bluesky adapter).
        return PostRef(PLATFORM, sid, thread_id=sid, url=url)

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
                if not sid or await self._author_of(sid) != self.me_id:
                    return ActionResult(False, "Mastodon deletes only the bot's own posts; "
                                        "report this one instead")
                await self.client.delete(sid)
                return ActionResult(True, f"the bot's status {sid} deleted on Mastodon")
            account = action.author_id if (action.author_id or "").isdigit() else (
                await self._author_of(sid) if sid else None)
            if not account or account == self.me_id:
                return ActionResult(False, f"Mastodon {action.kind} needs another account")
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

    async def _author_of(self, status_id: str) -> str | None:
        """The numeric account id of a status's author: known, or asked of the instance."""
        if status_id not in self._authors:
            status = await self.client.status(status_id)
            account = (status or {}).get("account")
            author = str(account.get("id") or "") if isinstance(account, dict) else ""
            if not author.isdigit():
                return None
            self._authors[status_id] = author
        return self._authors[status_id]

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

