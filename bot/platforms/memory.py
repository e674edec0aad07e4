"""An in-process platform for tests and rehearsals: no network, no account.

Like errbot's test backend, it ships inside the package so tests read like a
conversation: `room.say("jo", "A1 hello")`, `room.reply(...)`, `room.edit(...)`.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime

from bot.clock import Clock
from bot.platforms.base import (
    Capabilities,
    ChatContext,
    Platform,
    PlatformError,
    PlatformServices,
)
from bot.records import Action, ActionResult, Author, Backfill, Event, Message, PostRef

HOST = Author(platform="memory", id="host", name="Host", is_bot=True)


class MemoryPlatform(Platform):
    """A chat room in memory: the host's posts and the crowd's messages, nothing sent anywhere."""
    name = "memory"
    capabilities = Capabilities(
        threads=True, edits=True, deletes=True, hiding=True, holding=True, max_length=100_000,
        actions=frozenset({"hold", "approve", "hide", "restore", "redact", "delete",
                           "signpost"}),
    )

    def __init__(self, context: ChatContext, clock: Clock | None = None) -> None:
        super().__init__(context)
        self.clock = clock or Clock()
        self.messages: dict[str, Message] = {}
        self.posts: list[Message] = []  # what the host posted, in order
        self.actions: list[Action] = []
        self.hidden: set[str] = set()
        self.fail_next_posts = 0  # tests: make the next N posts fail (retryable)
        self._ids = itertools.count(1)
        # Ids are unique across restarts too: a process that starts again from 1 would
        # overwrite the earlier posts in the archive, keyed on (platform, id).
        self._run = secrets.token_hex(4)
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._log: list[Event] = []  # everything that happened, for backfill
        self._stopped = False

    async def stop(self) -> None:
        """End the event stream."""
        if not self._stopped:
            self._stopped = True
            self._queue.put_nowait(None)

    async def post(
        self, text: str, *, reply_to: str | None = None, new_thread: str | None = None
    ) -> PostRef:
        """Record the host's post (failing on demand, for retry tests)."""
        if self.fail_next_posts > 0:
            self.fail_next_posts -= 1
            raise PlatformError("memory: simulated outage")
        msg = self._new(HOST, text, reply_to=reply_to)
        thread = msg.id if new_thread else None
        msg = replace(msg, thread_id=thread)
        self.messages[msg.id] = msg
        self.posts.append(msg)
        self._emit(Event("created", self.name, msg.id, msg.created, msg))
        return PostRef(self.name, msg.id, thread_id=thread)

    @property
    def account_id(self) -> str | None:
        """The host's author id: what the memory platform's own posts carry."""
        return HOST.id

    async def find_post(self, text: str, since: datetime) -> PostRef | None:
        """The host's post of `text` since `since`, as the platform keeps it."""
        for msg in self.posts:
            if msg.text == text and msg.created >= since:
                return PostRef(self.name, msg.id, thread_id=msg.thread_id)
        return None

    async def events(self) -> AsyncIterator[Event]:  # type: ignore[override]
        """What the room's people do, as it happens, until stop()."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """Everything logged after the cursor's sequence number."""
        after = int(since.get("seq", "0"))
        events = tuple(self._log[after:])
        return Backfill(events=events, cursor={"seq": str(len(self._log))})

    async def act(self, action: Action) -> ActionResult:
        """Record the action and apply hide/restore; always succeeds."""
        self.actions.append(action)
        if action.kind not in self.capabilities.actions:
            return ActionResult(False, f"memory cannot {action.kind}")
        if action.message_id:
            if action.kind in ("hide", "hold", "delete"):
                self.hidden.add(action.message_id)
            elif action.kind in ("restore", "approve"):
                self.hidden.discard(action.message_id)
        return ActionResult(True, action.kind)

    # -- the crowd's side: what tests and the rehearsal simulator call ---------------------

    def say(self, who: str, text: str, *, reply_to: str | None = None,
            thread_id: str | None = None) -> Message:
        """Someone posts in the room (optionally replying or in a thread)."""
        author = Author(self.name, who.lower(), who)
        msg = self._new(author, text, reply_to=reply_to, thread_id=thread_id)
        self.messages[msg.id] = msg
        self._emit(Event("created", self.name, msg.id, msg.created, msg))
        return msg

    def edit(self, message_id: str, text: str) -> Message:
        """Its author edits a message."""
        now = self.clock.now()
        msg = replace(self.messages[message_id], text=text, edited=now)
        self.messages[message_id] = msg
        self._emit(Event("edited", self.name, message_id, now, msg))
        return msg

    def delete(self, message_id: str) -> None:
        """Its author deletes a message."""
        self.messages.pop(message_id, None)
        self._emit(Event("deleted", self.name, message_id, self.clock.now()))

    def _new(self, author: Author, text: str, *, reply_to: str | None = None,
             thread_id: str | None = None) -> Message:
        mid = f"{self._run}-{next(self._ids)}"
        return Message(
            platform=self.name, id=mid, author=author, text=text, created=self.clock.now(),
            reply_to=reply_to, thread_id=thread_id,
            raw={"id": mid, "author": author.id, "text": text, "reply_to": reply_to},
        )

    def _emit(self, event: Event) -> None:
        self._log.append(event)
        if not self._stopped:
            self._queue.put_nowait(event)


def build(context: ChatContext, services: PlatformServices) -> MemoryPlatform:
    """The registry's factory: an in-process room on the bot's clock."""
    return MemoryPlatform(context, clock=services.clock)
