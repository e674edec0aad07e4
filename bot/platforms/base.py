"""The platform contract: the only shape in which a chat platform meets the rest of the bot.

Everything that crosses this boundary is a frozen, neutral dataclass. No discord.py or
tweepy object ever reaches the host, the archive or the transcript, so each adapter can be
tested (and replaced) on its own and the core never learns an SDK's quirks.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.records import Action, ActionResult, Backfill, Event, PostRef, Upcoming


class PlatformError(Exception):
    """A platform refused or failed an operation. `retryable` says whether backing off may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class PlatformSetupError(Exception):
    """The platform cannot start: missing token, missing permission, unknown channel.

    Raised from `start()` so the problem is reported when the bot starts, not mid-chat.
    The message is one plain line telling the user what to fix.
    """


@dataclass(frozen=True)
class Capabilities:
    threads: bool = False
    edits: bool = False
    deletes: bool = False
    hiding: bool = False
    holding: bool = False  # can keep a message unseen until approved
    max_length: int | None = None
    weighted_length: bool = False  # X-style weighted counting (URLs 23, wide chars 2)
    actions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ChatContext:
    """What an adapter knows about the chat it serves: ids and its own per-platform settings."""

    chat_id: str
    title: str
    hashtag: str
    settings: Mapping[str, Any] = field(default_factory=dict)


class Platform(abc.ABC):
    """One platform serving one chat. Subclasses implement the verbs below."""

    name: str = "base"
    capabilities: Capabilities = Capabilities()

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
        """Where live collection has reached, saved after each stored batch so a restart
        backfills from there (None: the platform needs no cursor)."""
        return None

    async def sync_schedule(self, upcoming: Sequence[Upcoming]) -> None:
        """Mirror the upcoming sessions (create, update, cancel); most platforms need not."""
        return None

    async def publish_transcript(self, files: Sequence[Path], link: str | None) -> None:
        """Share the finished transcript where the chat happened (files, or a link)."""
        return None

    async def act(self, action: Action) -> ActionResult:
        """Carry out a moderation action; platforms that cannot say so (never silently nothing)."""
        return ActionResult(False, f"{self.name} cannot {action.kind}")
