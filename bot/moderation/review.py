"""The review queue: what a moderator still has to look at, and their decisions.

Decisions shape the transcript, which is always rebuilt from the archive:
    approve  show it (un-hold, un-hide); any redaction stays, confidentiality first
    restore  show the original text: un-hold, un-hide and drop the redaction
    hide     never shown in a transcript or search
    redact   shown with identifiers and abuse masked (the whole text if nothing matches)
A decision is about the message, so it closes every open item of that message, and it is
written to audit_log with the actor and time.

CLI (wired by the lead): `tweetchat review [--session N]` lists the queue (id, when, check,
action, author, the text as it stands); `tweetchat review ID approve|restore|hide|redact
[--as NAME]` decides one item and prints the new state in one line. An unknown id or
decision is one line on stderr and exit status 2.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from bot.archive import moderation_store as store
from bot.archive.records import from_iso
from bot.archive.store import Archive
from bot.moderation.conduct import detect_abuse
from bot.moderation.detectors import detect_identifiers
from bot.moderation.engine import _act, mask_text
from bot.moderation.policy import Policy
from bot.platforms.base import Platform
from bot.records import Action, ActionResult

__all__ = ["DECISIONS", "Decision", "ReviewError", "ReviewItem", "decide", "decide_sync",
           "review_queue"]

log = logging.getLogger(__name__)

DecisionKind = Literal["approve", "restore", "hide", "redact"]
DECISIONS: tuple[str, ...] = ("approve", "restore", "hide", "redact")
# "restored" apart from "approved": an approval keeps a redaction, a restore lifts it, and
# the engine must know whether a moderator's redaction still stands (an edit keeps it).
_STATUS = {"approve": "approved", "restore": "restored", "hide": "hidden", "redact": "redacted"}
WHOLE_MASK = "[removed by a moderator]"


class ReviewError(ValueError):
    """A moderator's mistake (unknown item or decision): one line, no traceback."""


@dataclass(frozen=True)
class ReviewItem:
    """One open item in the review queue: the finding, the message and its state now."""

    event_id: int
    platform: str
    message_id: str
    session_id: int | None
    check: str
    action: str
    reason: str
    spans: tuple[tuple[int, int], ...]
    at: datetime | None
    author_id: str | None
    author_name: str | None
    text: str | None  # the original text: moderators need to see what they judge
    state: str  # held | hidden | deleted | redacted | visible | missing
    shown: str | None  # what the public sees now (None when nothing)


@dataclass(frozen=True)
class Decision:
    """What a moderator's decision did to a message, and the platform's answer."""

    event_id: int
    decision: str
    platform: str
    message_id: str
    closed: int  # review items closed by this decision
    state: str
    platform_result: ActionResult | None = None


def review_queue(archive: Archive, session_id: int | None = None) -> list[ReviewItem]:
    """The open review items, of one session or of all."""
    return [_item(row) for row in store.open_events(archive, session_id)]


def _state(row: dict[str, Any]) -> str:
    if row.get("message_text") is None and row.get("author_id") is None:
        return "missing"
    if row.get("deleted"):
        return "deleted"
    if row.get("held"):
        return "held"
    if row.get("hidden"):
        return "hidden"
    return "redacted" if row.get("redacted_text") is not None else "visible"


def _item(row: dict[str, Any]) -> ReviewItem:
    state = _state(row)
    return ReviewItem(
        event_id=row["id"], platform=row["platform"], message_id=row["message_id"],
        session_id=row.get("message_session", row["session_id"]), check=row["check_name"],
        action=row["action"],
        reason=row["reason"] or "",
        spans=tuple(tuple(s) for s in orjson.loads(row["spans"] or "[]")),  # type: ignore[misc]
        at=from_iso(row["at"]), author_id=row.get("author_id"),
        author_name=row.get("author_name"), text=row.get("message_text"), state=state,
        shown=row.get("public_text") or None if state in ("visible", "redacted") else None,
    )


async def decide(archive: Archive, event_id: int, decision: str, actor: str, now: datetime,
                 platform: Platform | None = None, *, policy: Policy | None = None) -> Decision:
    """Carry out a moderator's decision on review item `event_id` (see the module doc).

    `platform` (when the bot is running) is asked to do the same.
    """
    change = _change(archive, event_id, decision, actor, now, policy)
    result = None
    if platform is not None:
        action = Action(decision, message_id=change.message_id,  # type: ignore[arg-type]
                        author_id=change.author_id, text=change.redacted,
                        reason=f"moderator decision on {change.check}")
        result = await _act(platform, action)
    return _audit(archive, change, actor, now, platform, result)


def decide_sync(archive: Archive, event_id: int, decision: str, actor: str, now: datetime,
                *, policy: Policy | None = None) -> Decision:
    """For the CLI, which decides in the archive without a running platform."""
    change = _change(archive, event_id, decision, actor, now, policy)
    return _audit(archive, change, actor, now, None, None)


@dataclass(frozen=True)
class _Change:
    event_id: int
    decision: str
    platform: str
    message_id: str
    author_id: str | None
    check: str
    redacted: str | None
    closed: int
    state: str


def _change(archive: Archive, event_id: int, decision: str, actor: str, now: datetime,
            policy: Policy | None) -> _Change:
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}: use one of {', '.join(DECISIONS)}")
    row = store.event(archive, event_id)
    if row is None:
        raise ReviewError(f"no review item {event_id}: `tweetchat review` lists the open ones")
    state = store.message_state(archive, row["platform"], row["message_id"])
    if state is None:
        raise ReviewError(f"review item {event_id}: its message is no longer in the archive")
    redacted = state["redacted_text"]
    if decision == "restore":
        redacted = None
    elif decision == "redact":
        redacted = _redact(state["text"] or "", policy or Policy.default())
    hidden = decision == "hide"
    store.set_state(archive, row["platform"], row["message_id"], hidden=hidden, held=False,
                    redacted_text=redacted)
    closed = store.close_events(archive, row["platform"], row["message_id"], also=event_id,
                                status=_STATUS[decision], actor=actor, at=now)
    after = _state({"message_text": state["text"], "author_id": state["author_id"],
                    "deleted": state["deleted"], "hidden": hidden, "held": False,
                    "redacted_text": redacted})
    return _Change(event_id, decision, row["platform"], row["message_id"], state["author_id"],
                   row["check_name"], redacted, closed, after)


def _audit(archive: Archive, change: _Change, actor: str, now: datetime,
           platform: Platform | None, result: ActionResult | None) -> Decision:
    detail = (f"item {change.event_id} ({change.check}); closed {change.closed}; "
              f"now {change.state}")
    if platform is not None and result is not None and not result.done:
        detail += f"; {platform.name} could not {change.decision}: {result.detail}"
    archive.audit(actor=actor, action=f"moderation.{change.decision}",
                  target=f"{change.platform}:{change.message_id}", detail=detail, at=now)
    return Decision(change.event_id, change.decision, change.platform, change.message_id,
                    change.closed, change.state, result)


def _redact(text: str, policy: Policy) -> str:
    findings = detect_identifiers(text, phone_region=policy.phone_region)
    findings += detect_abuse(text, policy.words)
    if not findings:
        return WHOLE_MASK
    masks = {name: c.mask for name, c in policy.checks.items()}
    return mask_text(text, findings, masks)
