"""Rows as the archive hands them out: plain frozen dataclasses, and how rows become them.

No SQL here: the store modules query, these types and converters shape the result.

Attribution, the transcript and the summary are pure functions of these records, so they
can be tested from data alone and rebuilt at any time from the archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

import orjson

SessionStatus = Literal["scheduled", "live", "paused", "ended", "missed", "cancelled"]
Section = Literal["welcome", "question", "wrapup", "unplaced", "host"]
Method = Literal["host", "reply", "tag", "thread", "window", "none"]


@dataclass(frozen=True)
class ItemRow:
    """One scripted item of a session (welcome, Q1.., close) and where it went out."""

    key: str  # "welcome", "q1", "q2", ..., "close"
    number: int | None  # question number, None for welcome/close
    text: str
    due_offset: float  # script seconds from the session's start, after pause/extend shifts
    status: Literal["pending", "sending", "sent", "owed", "failed", "skipped"] = "pending"
    posted_at: datetime | None = None
    # platform -> platform id of the post (and its thread, where one was opened)
    refs: dict[str, str] = field(default_factory=dict)
    threads: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionRow:
    """One session of a chat as stored: its schedule, status and settings."""

    id: int
    chat_id: str
    title: str
    hashtag: str
    timezone: str
    scheduled_start: datetime  # UTC
    duration_minutes: int
    status: SessionStatus
    rehearsal: bool
    pace: float
    platforms: tuple[str, ...]
    started_at: datetime | None = None
    ended_at: datetime | None = None
    host_name: str = ""
    tag_style: Literal["Q", "T"] = "Q"
    joined_late: bool = False
    notes: str = ""


@dataclass(frozen=True)
class StoredMessage:
    """A message as the archive holds it, with its moderation state and attribution."""

    platform: str
    id: str
    session_id: int | None
    author_id: str
    author_name: str
    author_handle: str | None
    text: str
    created: datetime
    reply_to: str | None = None
    thread_id: str | None = None
    edited: datetime | None = None
    deleted: bool = False
    hidden: bool = False  # hidden by moderation: never in a public transcript
    redacted_text: str | None = None  # when set, transcripts show this instead of `text`
    reactions: int = 0
    is_host: bool = False
    url: str | None = None
    kind: str = "message"
    # attribution (filled after the session, or live)
    question: int | None = None
    section: Section = "unplaced"
    method: Method = "none"
    confidence: float = 0.0
    extra_questions: tuple[int, ...] = ()  # "A1/A2" answers more than one question
    raw: dict[str, Any] | None = None

    @cached_property
    def key(self) -> tuple[str, str]:
        """(platform, platform id): the message's identity in the archive.

        Cached: attribution and the transcript ask each message for its key a dozen times
        (a million calls for a big import). Not a field, so equality ignores it.
        """
        return (self.platform, self.id)

    @property
    def public_text(self) -> str:
        """The text a reader may see: the redaction when there is one."""
        return self.redacted_text if self.redacted_text is not None else self.text

    @property
    def public(self) -> bool:
        """Whether a transcript may show it at all (not deleted, not hidden)."""
        return not (self.deleted or self.hidden)


def iso(dt: datetime | None) -> str | None:
    """A datetime as stored (ISO 8601 text), None kept as None."""
    return dt.isoformat() if dt is not None else None


def from_iso(value: str | None) -> datetime | None:
    """A stored ISO 8601 text back as a datetime; empty or None gives None."""
    return datetime.fromisoformat(value) if value else None


def dumps(value: Any) -> str:
    """JSON text for a column (orjson; anything it cannot encode becomes str)."""
    return orjson.dumps(value, default=str).decode()


def session_row(row: Mapping[str, Any]) -> SessionRow:
    """A sessions table row as a SessionRow."""
    return SessionRow(
        id=row["id"], chat_id=row["chat_id"], title=row["title"], hashtag=row["hashtag"],
        timezone=row["timezone"], scheduled_start=from_iso(row["scheduled_start"]),  # type: ignore[arg-type]
        duration_minutes=row["duration_minutes"], status=row["status"],
        rehearsal=bool(row["rehearsal"]), pace=row["pace"] or 1.0,
        platforms=tuple(orjson.loads(row["platforms"] or "[]")),
        started_at=from_iso(row["started_at"]), ended_at=from_iso(row["ended_at"]),
        host_name=row["host_name"] or "", tag_style=row["tag_style"] or "Q",
        joined_late=bool(row["joined_late"]), notes=row["notes"] or "",
    )


def stored_message(row: Mapping[str, Any]) -> StoredMessage:
    """A messages row (with `raw` when selected) as a StoredMessage."""
    raw = row.get("raw")
    extra = row["extra_questions"]
    return StoredMessage(
        platform=row["platform"], id=row["id"], session_id=row["session_id"],
        author_id=row["author_id"], author_name=row["author_name"] or "",
        author_handle=row["author_handle"], text=row["text"] or "",
        created=datetime.fromisoformat(row["created"]), reply_to=row["reply_to"],
        thread_id=row["thread_id"], edited=from_iso(row["edited"]),
        deleted=bool(row["deleted"]), hidden=bool(row["hidden"] or row["held"]),
        redacted_text=row["redacted_text"], reactions=row["reactions"] or 0,
        is_host=bool(row["is_host"]), url=row["url"], kind=row["kind"] or "message",
        question=row["question"], section=row["section"] or "unplaced",
        method=row["method"] or "none", confidence=row["confidence"] or 0.0,
        extra_questions=(() if extra in (None, "", "[]") else tuple(orjson.loads(extra))),
        raw=orjson.loads(raw) if raw else None,
    )
