"""The platform contract: the only shape in which a chat platform meets the rest of the bot.

Everything that crosses this boundary is a frozen, neutral dataclass. No discord.py or
tweepy object ever reaches the host, the archive or the transcript, so each adapter can be
tested (and replaced) on its own and the core never learns an SDK's quirks.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.platforms import registry
from bot.records import Action, ActionResult, Backfill, Event, PostRef, Upcoming

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.clock import Clock
    from bot.publishing import Publisher
    from bot.script import ChatScript
    from bot.settings import Settings


class PlatformError(Exception):
    """A platform refused or failed an operation. `retryable` says whether backing off may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class DuplicatePost(PlatformError):
    """The platform refused the post as a repeat of one already there.

    X's duplicate-content 403. After a crash or a timeout that post may be ours: the host
    looks for it before calling the item failed.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class PlatformHeld(PlatformError):
    """The platform refuses every post for now: credits spent, or a 24-hour cap reached.

    Not worth retrying at once: the host keeps the post owed and asks again on a slow
    backoff, so it goes out, in order, once the account is topped up (bot/held_posts.py).
    `retry_at` is set when the platform says when it will take posts again (a cap's reset):
    the host does not ask before then.
    """

    def __init__(self, message: str, *, retry_at: datetime | None = None) -> None:
        super().__init__(message, retryable=False)
        self.retry_at = retry_at


class PlatformSetupError(Exception):
    """The platform cannot start: missing token, missing permission, unknown channel.

    Raised from `start()` so the problem is reported when the bot starts, not mid-chat.
    The message is one plain line telling the user what to fix.
    """


@dataclass(frozen=True)
class Capabilities:
    """What a platform can do; the host and moderation adapt to it."""
    threads: bool = False
    edits: bool = False
    deletes: bool = False
    hiding: bool = False
    holding: bool = False  # can keep a message unseen until approved
    max_length: int | None = None
    weighted_length: bool = False  # X-style weighted counting (URLs 23, wide chars 2)
    actions: frozenset[str] = frozenset()
    refuses_repeats: bool = False  # the same text twice is refused (X): weekly posts vary


@dataclass(frozen=True)
class ChatContext:
    """What an adapter knows about the chat it serves: ids and its own per-platform settings."""

    chat_id: str
    title: str
    hashtag: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    host_name: str = "Host"


# Screen stored events now (the moderation engine); a platform that holds messages (the web
# room) awaits it before showing anything.
Screen = Callable[["Platform", Sequence[Event], "int | None"], Awaitable[None]]


async def _no_screening(platform: Platform, events: Sequence[Event],
                        session_id: int | None) -> None:
    return None


def _no_session(chat_id: str) -> int | None:
    return None


@dataclass(frozen=True)
class PlatformServices:
    """What the running bot lends an adapter: never the bot itself.

    `settings` carries the secrets and each platform's settings section (read once, frozen);
    `archive` is for adapters whose store is the archive (the web room) or that mirror
    state there (Discord's scheduled events); `control` is the narrow surface through
    which a platform's own commands (Discord's /chat) run sessions.
    """

    settings: Settings
    clock: Clock
    archive: Archive | None = None
    live_session: Callable[[str], int | None] = _no_session
    screen: Screen = _no_screening
    control: BotControl | None = None


class ChatView(Protocol):
    """One loaded chat as a control surface sees it."""

    @property
    def script(self) -> ChatScript:
        """The chat's script."""

    @property
    def platforms(self) -> Mapping[str, Platform]:
        """The chat's adapters by platform name."""


SessionListener = Callable[["int | None", dict[str, Any]], Awaitable[None]]


class BotControl(Protocol):
    """The narrow surface through which a platform's own commands and rooms run chats.

    Discord's /chat and the web room's service use it; the running bot satisfies it, and no
    platform module ever names the bot's class.
    """

    @property
    def settings(self) -> Settings:
        """The settings the bot runs with."""

    @property
    def clock(self) -> Clock:
        """The bot's clock."""

    @property
    def archive(self) -> Archive:
        """The archive (the bot's own connection, on the event loop)."""

    @property
    def chats(self) -> Mapping[str, ChatView]:
        """Every loaded chat by id."""

    @property
    def session_listeners(self) -> list[SessionListener]:
        """Live views told about published transcripts and alerts."""

    @property
    def publisher(self) -> Publisher:
        """The one way to render a transcript (off the event loop)."""

    @property
    def script_issues(self) -> Sequence[object]:
        """Scripts in chats/ that could not be loaded, and why."""

    def live_session(self, chat_id: str) -> int | None:
        """The chat's live session id, if one is running."""

    def control(self, command: str, minutes: float | None = None, *, chat_id: str | None = None,
                session_id: int | None = None, actor: str = "moderator") -> str:
        """Pause, resume, skip, extend or stop a live session; what happened."""

    async def start_session(self, chat_id: str, *, occurrence: Any = None, pace: float = 1.0,
                            rehearsal: bool = False) -> int:
        """Start hosting a session of the chat now; its id."""

    async def reload(self) -> dict[str, int]:
        """Re-read chats/ and reschedule."""


class Platform(abc.ABC):
    """One platform serving one chat. Subclasses implement the verbs below."""

    name: str = "base"
    capabilities: Capabilities = Capabilities()
    _gaps: list[str]  # see report_gap

    def __init__(self, context: ChatContext) -> None:
        self.context = context

    async def start(self) -> None:
        """Connect and check set-up; raise PlatformSetupError with one plain line if unusable."""
        return None

    async def stop(self) -> None:
        """Disconnect; must be safe to call twice."""
        return None

    @abc.abstractmethod
    async def post(
        self, text: str, *, reply_to: str | None = None, new_thread: str | None = None
    ) -> PostRef:
        """Publish `text`; `new_thread` names a thread to open from the post where supported."""

    @abc.abstractmethod
    def events(self) -> AsyncIterator[Event]:
        """Live events as they happen, until stop()."""

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """What happened after the cursor `since` (empty on a fresh start)."""
        return Backfill(events=(), cursor=dict(since))

    async def remind(self, text: str, start: datetime) -> PostRef | None:
        """Announce an upcoming session (platforms may mention interested members)."""
        return await self.post(text)

    def live_cursor(self) -> Mapping[str, str] | None:
        """Where live collection has reached (None: the platform needs no cursor).

        Saved after each stored batch, so a restart backfills from there.
        """
        return None

    @property
    def account_id(self) -> str | None:
        """The id the bot's own posts carry on this platform, once started (None: unknown)."""
        return None

    def as_sent(self, text: str) -> str:
        """`text` as post() would put it on the platform (e.g. X adds the hashtag)."""
        return text

    async def find_post(self, text: str, since: datetime) -> PostRef | None:
        """The bot's own post of `text` made since `since`, found on the platform itself.

        How a send that crashed, timed out or was refused as a duplicate after the platform
        accepted it is reconciled. None when not found (or not supported).
        """
        return None

    def take_gaps(self) -> list[str]:
        """Gaps in collection the platform knows of, one plain line each, handed over once.

        The collector tells the moderators. E.g. X: a cursor older than the search window.
        """
        gaps: list[str] = getattr(self, "_gaps", [])
        self._gaps = []
        return gaps

    def report_gap(self, text: str) -> None:
        """Record a gap for `take_gaps` (and log it)."""
        self._gaps = [*getattr(self, "_gaps", []), text]

    async def sync_schedule(self, upcoming: Sequence[Upcoming]) -> None:
        """Mirror the upcoming sessions (create, update, cancel); most platforms need not."""
        return None

    async def publish_transcript(self, files: Sequence[Path], link: str | None) -> None:
        """Share the finished transcript where the chat happened (files, or a link)."""
        return None

    async def act(self, action: Action) -> ActionResult:
        """Carry out a moderation action; platforms that cannot say so (never silently nothing)."""
        return ActionResult(False, f"{self.name} cannot {action.kind}")


def context_for(script: ChatScript, platform: str, defaults: Mapping[str, Any] | None = None
                ) -> ChatContext:
    """The chat as one platform sees it.

    The script's `platform_settings.<platform>` (empty values do not override), with the
    host's name for the platform's own posts.
    """
    settings = dict(defaults or {})
    settings.update({k: v for k, v in script.settings_for(platform).items()
                     if v not in ("", None)})
    return ChatContext(chat_id=script.id, title=script.title, hashtag=script.hashtag,
                       settings=settings, host_name=script.model.host or "Host")


def make_platform(name: str, script: ChatScript, services: PlatformServices) -> Platform:
    """Build a chat's adapter for `name` through the registry's factory."""
    info = registry.PLATFORMS.get(name)
    if info is None:
        raise PlatformSetupError(registry.unknown(name))
    # The factory merges its own settings section under the script's values: only it knows
    # which of its keys the script may spell differently.
    factory = registry.load(info.factory)
    platform: Platform = factory(context_for(script, name), services)
    return platform
