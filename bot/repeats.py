"""Weekly posts made unique where a platform refuses repeats.

X refuses the same text twice from one account, so the script's `repeat_text` template
weaves in the session's date or number; the template is checked when the script loads.
"""

from __future__ import annotations

import string
from datetime import datetime

__all__ = ["LONGEST_DATE", "REPEAT_FIELDS", "repeat_text_problem", "unique_text"]

REPEAT_FIELDS = ("text", "date", "number")
LONGEST_DATE = datetime(2026, 9, 30)  # "30 Sep": the widest {date}


def repeat_text_problem(template: str) -> str | None:
    """Why `repeat_text` cannot be used (None when it can): it must keep {text}."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"repeat_text '{template}': {exc}; write e.g. '{{text}} ({{date}})'"
    unknown = [f for f in fields if f not in REPEAT_FIELDS]
    if unknown:
        return (f"repeat_text uses {{{unknown[0]}}}; use only {{text}}, {{date}} and "
                "{number}")
    if "text" not in fields:
        return "repeat_text must contain {text} (the post itself), e.g. '{text} ({date})'"
    return None


def unique_text(template: str, text: str, local_date: datetime, number: int) -> str:
    """A weekly post made unique: the session's date or number woven in by the template."""
    date_text = f"{local_date.day} {local_date.strftime('%b')}"
    return template.format(text=text, date=date_text, number=number)
