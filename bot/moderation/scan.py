"""Scan a file of messages against a policy, without an archive or a platform.

`tweetchat scan FILE [--policy config/moderation.toml] [--only-matches]` (wired by the lead)
reads FILE line by line: plain text, or JSONL whose objects carry "text" (and optionally
"author"/"author_id" and "at"/"created_at" for the repeat and flood checks). It prints one
JSON object per line, e.g.

    {"line": 7, "checks": ["nhs_number"], "action": "redact",
     "spans": [{"check": "nhs_number", "start": 12, "end": 24, "reason": "NHS number"}],
     "redacted": "my NHS no is [NHS number removed]"}

Blank lines are skipped; a JSON line without "text" yields {"line": n, "error": "..."}.
The matched text itself is never printed: spans and the redacted text say enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import Policy

__all__ = ["scan_lines"]

_EPOCH = datetime(2013, 1, 23, 20, 0, tzinfo=UTC)


def scan_lines(lines: Iterable[str], policy: Policy | None = None, *,
               only_matches: bool = False) -> Iterator[dict[str, Any]]:
    """One result object per non-blank line (see the module doc), matched text never shown."""
    engine = ModerationEngine(policy)
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        author: str | None = None
        at = _EPOCH + timedelta(seconds=number)  # plain lines: one a second, for ordering
        text: Any = line
        if line.lstrip().startswith("{"):
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                text = obj.get("text")
                if not isinstance(text, str):
                    yield {"line": number, "error": 'JSON line without a "text" field'}
                    continue
                who = obj.get("author_id", obj.get("author"))
                author = str(who) if who is not None else None
                when = obj.get("at", obj.get("created_at"))
                if isinstance(when, str):
                    try:
                        parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
                        at = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
                    except ValueError:
                        pass
        verdict = engine.verdict(text, author, at, engine.context if author else None,
                                 message_key=f"line:{number}")
        if only_matches and verdict.clean:
            continue
        yield {
            "line": number,
            "checks": list(verdict.checks),
            "action": verdict.action,
            "spans": [{"check": f.check, "start": f.start, "end": f.end, "reason": f.reason}
                      for f in verdict.findings],
            "redacted": verdict.redacted_text,
        }
