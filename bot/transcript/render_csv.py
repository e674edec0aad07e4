"""One CSV row per public message, in time order, with the question it answers.

Cells a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
get a leading apostrophe, the usual guard against CSV injection; consumers that need the
exact text should read the JSON.
"""

from __future__ import annotations

import csv
import io

from bot.transcript.model import gc_paused, Transcript

COLUMNS = [
    "time_utc", "local_time", "platform", "id", "author_id", "author_name", "author_handle",
    "host", "section", "question", "extra_questions", "method", "confidence", "reply_to",
    "depth", "edited", "redacted", "reactions", "reply_count", "url", "text",
]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA) else value


@gc_paused
def render_csv(t: Transcript) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for e in t.entries:
        m = e.msg
        b = e.block
        w.writerow(
            [
                m.created.isoformat(),
                e.local.isoformat(),
                m.platform,
                _cell(m.id),
                _cell(m.author_id),
                _cell(m.author_name),
                _cell(m.author_handle),
                int(m.is_host),
                b.kind if b is not None else "unplaced",
                b.label if b is not None and b.kind == "question" else "",
                "/".join(str(n) for n in m.extra_questions),
                m.method,
                f"{m.confidence:.2f}",
                _cell(m.reply_to),
                e.depth,
                m.edited.isoformat() if m.edited else "",
                int(e.redacted),
                m.reactions,
                e.reply_count,
                _cell(m.url),
                _cell(e.text),
            ]
        )
    return buf.getvalue()
