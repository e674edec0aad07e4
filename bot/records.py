"""Neutral records that cross every boundary: frozen, plain, and free of any SDK's types.

Platforms produce them; the host, the archive, moderation and transcripts consume them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EventKind = Literal["created", "edited", "deleted", "reaction"]
ActionKind = Literal["hold", "approve", "hide", "restore", "redact", "delete", "timeout", "modlog",
                     "signpost",  # signpost: a private, kind message to the author
                     "report", "mute", "block"]  # to the network's moderators; from the bot


# Authors and messages are built by the hundred thousand on an import. A frozen dataclass's
# generated __init__ sets each field through object.__setattr__ (about 5 µs for a Message);
# filling __dict__ in one call does the same thing in a seventh of the time. So these two
# write their own __init__ (init=False); frozen, equality, hashing and `replace` are as before.


@dataclass(frozen=True, init=False)
class Author:
    """Who wrote a message: their platform id, display name and handle."""

    platform: str
    id: str
    name: str
    handle: str | None = None
    is_bot: bool = False
    # Followers when the platform reported them with this message (X, Mastodon, sometimes
    # Bluesky); None when it did not. Summed as "impressions", a theoretical maximum reach.
    followers: int | None = None

    def __init__(self, platform: str, id: str, name: str, handle: str | None = None,
                 is_bot: bool = False, followers: int | None = None) -> None:
        """Set every field at once (see the note above the class)."""
        self.__dict__.update(platform=platform, id=id, name=name, handle=handle, is_bot=is_bot,
                             followers=followers)


@dataclass(frozen=True)
class PostRef:
    """What a platform returns for a post it made: enough to reply to it or find replies."""

    platform: str
    id: str
    thread_id: str | None = None
    url: str | None = None


@dataclass(frozen=True, init=False)
class Message:
    """One message as a platform reported it, with its payload kept verbatim."""

    platform: str
    id: str
    author: Author
    text: str
    created: datetime  # timezone-aware UTC
    reply_to: str | None = None  # platform id of the message this one replies to
    thread_id: str | None = None  # platform thread/conversation it was posted in
    channel_id: str | None = None
    edited: datetime | None = None
    reactions: int = 0  # reactions / likes, for "most engaged"
    url: str | None = None
    kind: Literal["message", "quote", "retweet"] = "message"
    media: int = 0  # images, videos, files attached (links are counted from the text)
    raw: Mapping[str, Any] = field(default_factory=dict)  # the payload as received, kept verbatim

    def __init__(self, platform: str, id: str, author: Author, text: str, created: datetime,
                 reply_to: str | None = None, thread_id: str | None = None,
                 channel_id: str | None = None, edited: datetime | None = None,
                 reactions: int = 0, url: str | None = None,
                 kind: Literal["message", "quote", "retweet"] = "message", media: int = 0,
                 raw: Mapping[str, Any] | None = None) -> None:
        """Set every field at once (see the note above Author)."""
        self.__dict__.update(
            platform=platform, id=id, author=author, text=text, created=created,
            reply_to=reply_to, thread_id=thread_id, channel_id=channel_id, edited=edited,
            reactions=reactions, url=url, kind=kind, media=media,
            raw={} if raw is None else raw)


@dataclass(frozen=True)
class Event:
    """Something that happened on a platform. `message` is set for created/edited/reaction."""

    kind: EventKind
    platform: str
    message_id: str
    at: datetime
    message: Message | None = None
    reactions: int | None = None


@dataclass(frozen=True)
class Backfill:
    """Events found after `since`, and the cursor to pass next time (opaque to the core)."""

    events: tuple[Event, ...]
    cursor: Mapping[str, str]


@dataclass(frozen=True)
class Action:
    """A moderation action the policy asks a platform to carry out."""

    kind: ActionKind
    message_id: str | None = None
    author_id: str | None = None
    reason: str = ""
    minutes: int | None = None  # for timeout
    text: str | None = None  # replacement text for redact, or the mod-log line


@dataclass(frozen=True)
class ActionResult:
    """Whether a platform carried out a moderation action, and what it said."""

    done: bool
    detail: str = ""


@dataclass(frozen=True)
class Upcoming:
    """A scheduled session, for platforms that mirror the schedule (Discord events)."""

    key: str  # stable id of the occurrence: "<chat>:<UTC start ISO>"
    start: datetime
    end: datetime
    title: str
    description: str = ""
    url: str | None = None
