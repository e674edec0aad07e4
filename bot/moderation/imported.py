"""Screening for imports: each imported message judged by the engine as its row is built.

An import (`tweetchat import x|discord|mastodon|bluesky`) brings in a chat that is over. Its
messages are judged by the same `ModerationEngine.verdict` as live ones, in the readers
(forked children where the import forks: the judging is CPU work done beside the writing),
and the outcome travels with the message's row. The archive writes the row, the
moderation events (review items) and the masked or held state in one transaction
(bot/archive/screened.py): no imported message is ever stored unscreened.

What differs from live screening, because the chat is over:
- nothing is asked of the platform (no delete, no timeout, no report);
- no signpost is sent: a crisis finding is an open review item whose reason says so;
- rate checks (repeats, floods) are not judged: they guard a live room's pace;
- the events' actor is "import", so moderators can tell them from live ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.archive.records import dumps
from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import Policy
from bot.moderation.shown_names import NameScreen

__all__ = ["CRISIS_NOTE", "ImportScreen", "Screened"]

CRISIS_NOTE = ("; imported after the chat, so no signpost was sent: reach out another way "
               "if needed")
# What the archive writes for one flagged message: hidden, held, the masked text (or None),
# and its events as (check, action, spans JSON, reason, status). Plain values: it travels
# from a reader child to the writer inside the row.
Screened = tuple[bool, bool, str | None, tuple[tuple[str, str, str, str, str], ...]]
_OUTCOME = {"hide": "hidden", "delete": "hidden", "redact": "redacted", "hold": "open",
            "flag": "open"}


class ImportScreen:
    """The moderation policy applied to an import's messages and display names."""

    def __init__(self, policy: Policy | None = None, protected: Iterable[str] = ()) -> None:
        self.engine = ModerationEngine(policy)
        self.names = NameScreen(self.engine.policy, protected)

    def message(self, text: str, created: datetime) -> Screened | None:
        """What the policy makes of one imported message; None when it is clean."""
        engine = self.engine
        verdict = engine.verdict(text, None, created, None)
        if verdict.clean:
            return None
        checks = engine.policy.checks
        events: dict[str, tuple[str, str, str, str, str]] = {}
        spans: dict[str, list[list[int]]] = {}
        for finding in verdict.findings:
            spans.setdefault(finding.check, []).append([finding.start, finding.end])
        for finding in verdict.findings:
            name = finding.check
            if name in events:
                continue
            check = checks[name]
            reason = finding.reason + (CRISIS_NOTE if name == "crisis" else "")
            status = "open" if check.needs_review else _OUTCOME[check.action]
            events[name] = (name, check.action, dumps(spans[name]), reason, status)
        action = verdict.action
        return (action in ("hide", "delete"), action == "hold", verdict.redacted_text,
                tuple(events.values()))

    def name(self, raw: str) -> str:
        """The display name to show (bot.moderation.shown_names)."""
        return self.names(raw)
