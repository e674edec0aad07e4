"""Posting shared by the feed platforms (X, Bluesky, Mastodon): questions under the welcome.

These platforms have no named threads. A chat's welcome is a top-level post; a question
(`new_thread` set) either starts its own conversation or, when the chat asks for
`thread_questions`, replies to the welcome. Reminders stand outside the chat's
conversations, and the transcript is shared as a link (none of them takes files) under the
welcome, only when the archive is public. Each adapter supplies `_create` (the one request
that makes a post, with its own length rule) and `_watch_posted` (how it follows the replies
under a post it made); this class holds the rest, once.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from bot.platforms.base import Platform
from bot.records import PostRef


class FeedPlatform(Platform):
    """A platform whose chat is a welcome post with the questions as posts or replies."""

    # X follows the newest top-level post (the next week's welcome, or the close); Bluesky
    # and Mastodon keep the first welcome this process posted (or found after a restart).
    welcome_follows_latest: ClassVar[bool] = False
    _thread_questions: bool
    _share_transcript: bool
    _welcome: str | None

    @abc.abstractmethod
    async def _create(self, text: str, reply_to: str | None) -> PostRef:
        """Make one post (a reply to `reply_to` when given) and say where it landed."""

    @abc.abstractmethod
    def _watch_posted(self, thread_id: str) -> None:
        """Collect the replies under a post the bot just made."""

    async def post(
        self, text: str, *, reply_to: str | None = None, new_thread: str | None = None
    ) -> PostRef:
        """Post `text` as a new post, a reply, or under the welcome when questions are threaded."""
        if reply_to is None and new_thread is not None and self._thread_questions:
            reply_to = self._welcome
        ref = await self._create(text, reply_to)
        if reply_to is None and new_thread is None and (
            self._welcome is None or self.welcome_follows_latest
        ):
            self._welcome = ref.id  # the welcome: the next questions hang from it
        self._watch_posted(ref.thread_id or ref.id)
        return ref

    async def remind(self, text: str, start: datetime) -> PostRef | None:
        """Post a reminder as a top-level post, outside the chat's conversations."""
        return await self._create(text, None)

    async def publish_transcript(self, files: Sequence[Path], link: str | None) -> None:
        """No files here: post the link under the welcome when the archive is public."""
        if link is None or not self._share_transcript:
            return
        await self._create(f"The transcript of {self.context.title} is up: {link}", self._welcome)
