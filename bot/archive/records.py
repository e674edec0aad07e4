"""Rows as the archive hands them out: plain frozen dataclasses, no SQL.

Attribution, the transcript and the summary are pure functions of these records, so they
can be tested from data alone and rebuilt at any time from the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

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
    status: Literal["pending", "sending", "sent", "failed", "skipped"] = "pending"
    posted_at: datetime | None = None
    # platform -> platform id of the post (and its thread, where one was opened)
    refs: dict[str, str] = field(default_factory=dict)
    threads: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionRow:
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

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.id)

    @property
    def public_text(self) -> str:
        return self.redacted_text if self.redacted_text is not None else self.text

    @property
    def public(self) -> bool:
        return not (self.deleted or self.hidden)
