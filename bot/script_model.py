"""The chat script's shape: the pydantic models a YAML script must fit, and its problems.

`bot.script` loads and checks scripts against these models; they live apart so the loader
stays small and every public name here can be documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.durations import MAX_CHAT_SECONDS, in_years, parse_duration
from bot.yaml_lines import one_line

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Who speaks in a health chat; a script may offer its own list (roles: [...]).
DEFAULT_ROLES = ("Patient", "Carer", "Nurse", "Midwife", "Doctor", "Allied health professional",
                 "Manager", "HR", "Student", "Other")


@dataclass(frozen=True)
class ScriptIssue:
    """One problem in a script: where it is (file:line) and what to do about it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return one_line(f"{self.path}:{self.line}: {self.message}")


class ScriptError(Exception):
    """A script with problems; `issues` holds every one of them, each naming file:line."""

    def __init__(self, issues: list[ScriptIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


class _Strict(BaseModel):
    """Unknown keys are errors, and a loaded script never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekly(_Strict):
    """A weekly slot: the day and the local start time."""

    day: str
    start: time

    @field_validator("day")
    @classmethod
    def _day(cls, value: str) -> str:
        day = value.strip().lower()
        for full in DAYS:
            if day == full or day == full[:3]:
                return full
        raise ValueError(f"'{value}' is not a day of the week; write e.g. wednesday")


class Schedule(_Strict):
    """When the chat runs: weekly or once, how long, and the dates it starts, ends or skips."""

    weekly: Weekly | None = None
    once: datetime | None = None  # local date-time in the chat's zone
    duration: str = "60m"
    first: date | None = None
    last: date | None = None
    skip: tuple[date, ...] = ()

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        seconds = parse_duration(value, maximum=MAX_CHAT_SECONDS)
        if seconds <= 0:
            raise ValueError("the duration must be longer than zero, e.g. 60m")
        return value

    @field_validator("once", "first", "last", "skip")
    @classmethod
    def _years(cls, value: date | tuple[date, ...] | None) -> date | tuple[date, ...] | None:
        for day in value if isinstance(value, tuple) else (value,):
            in_years(day)
        return value


class Question(_Strict):
    """One timed question: its number, offset from the start, text and moderator notes."""

    number: int = Field(ge=1, le=999)
    at: str
    text: str
    notes: str = ""  # for moderators only, never posted


class Closing(_Strict):
    """The closing post and when it goes out."""

    at: str
    text: str


class ScriptModel(_Strict):
    """A whole chat script as written, before times are resolved."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    title: str
    hashtag: str = Field(pattern=r"^#\w+$", max_length=100)
    timezone: str = Field(max_length=64)
    schedule: Schedule
    welcome: str
    questions: tuple[Question, ...] = Field(min_length=1)
    closing: Closing
    platforms: tuple[str, ...] = ("web",)
    host: str = ""
    hosts: tuple[str, ...] = ()  # co-hosts: their posts are host posts, never answers
    reminders: tuple[str, ...] = ()
    tag_style: Literal["Q", "T"] = "Q"
    platform_settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    description: str = ""
    # Posted with the welcome and pinned in the web room, e.g. "This chat is not for
    # personal medical advice; in an emergency call 999."
    disclaimer: str = ""
    # This chat's own words for the private safety signpost (crisis check); "" = the policy's.
    signpost: str = ""
    # The roles participants may declare (optional for them); [] offers none.
    roles: tuple[str, ...] = DEFAULT_ROLES
    # How a weekly post is made unique where a platform refuses repeats (X refuses the same
    # text twice): {text} the post, {date} the session's date (27 Nov), {number} its number.
    repeat_text: str = "{text} ({date})"

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(" ".join(r.split()) for r in value if r.strip()))
        if len(cleaned) > 25 or any(len(r) > 40 for r in cleaned):
            raise ValueError("at most 25 roles of at most 40 characters each")
        return cleaned
