"""Weekly posts made unique where a platform refuses repeats.

X refuses the same text twice from one account, so the script's `repeat_text` template
weaves in the session's date or number; the template is checked when the script loads.
"""

from __future__ import annotations

import re
import string
from datetime import datetime

__all__ = ["LONGEST_DATE", "MAX_FIELD_WIDTH", "REPEAT_FIELDS", "repeat_text_problem",
           "unique_text"]

REPEAT_FIELDS = ("text", "date", "number")
LONGEST_DATE = datetime(2026, 9, 30)  # "30 Sep": the widest {date}
# A width or precision in a format spec ("{number:>4}") beyond this is a mistake: no
# platform takes a post that long, and "{text:>9999999999}" would be built in memory first.
MAX_FIELD_WIDTH = 1000
# The session numbers tried: the format spec must take any of them ("{number:c}" cannot
# take a number beyond U+10FFFF, so the last refuses it).
_TRIAL_NUMBERS = (0, 1, 9999, 10**7)
_EXAMPLE = "write e.g. '{text} ({date})'"


def repeat_text_problem(template: str) -> str | None:
    """Why `repeat_text` cannot be used (None when it can): it must keep {text}.

    The template is formatted with sample values, so a format spec or conversion the
    values cannot take ("{number:s}", "{text!x}") is refused here, when the script loads,
    not when the post goes out.
    """
    shown = template if len(template) <= 80 else f"{template[:77]}..."
    # One line, whatever it holds: control characters (a newline too) shown as escapes.
    shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: repr(m.group())[1:-1], shown)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"repeat_text '{shown}': {exc}; {_EXAMPLE}"
    fields = [f for _, f, _, _ in parts if f is not None]
    unknown = [f for f in fields if f not in REPEAT_FIELDS]
    if unknown:
        return (f"repeat_text uses {{{unknown[0]}}}; use only {{text}}, {{date}} and "
                "{number}")
    if "text" not in fields:
        return "repeat_text must contain {text} (the post itself), e.g. '{text} ({date})'"
    for _, field, spec, _ in parts:
        if spec and ("{" in spec or "}" in spec):
            return (f"repeat_text '{shown}': the format of {{{field}}} holds another field; "
                    f"{_EXAMPLE}")
        widest = max((int(d) for d in re.findall(r"\d+", spec or "")), default=0)
        if widest > MAX_FIELD_WIDTH:
            return (f"repeat_text '{shown}': a width of {widest} in {{{field}}} is too wide "
                    f"(at most {MAX_FIELD_WIDTH}); {_EXAMPLE}")
    for number in _TRIAL_NUMBERS:
        try:
            unique_text(template, "Q1 text", LONGEST_DATE, number)
        except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            return f"repeat_text '{shown}': {reason}; {_EXAMPLE}"
    return None


def unique_text(template: str, text: str, local_date: datetime, number: int) -> str:
    """A weekly post made unique: the session's date or number woven in by the template."""
    date_text = f"{local_date.day} {local_date.strftime('%b')}"
    return template.format(text=text, date=date_text, number=number)
