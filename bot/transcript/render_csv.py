"""One CSV row per public message, in time order, with the question it answers.

Text cells a spreadsheet would run as a formula (name, handle, url and text starting with
= + - @, tab or carriage return) get a leading apostrophe, the usual guard against CSV
injection; consumers that need the exact text should read the JSON. Platform ids are
written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from bot.transcript.model import Transcript, gc_paused

COLUMNS = [
    "time_utc",
    "local_time",
    "platform",
    "id",
    "author_id",
    "author_name",
    "author_handle",
    "host",
    "section",
    "question",
    "extra_questions",
    "method",
    "confidence",
    "reply_to",
    "depth",
    "edited",
    "redacted",
    "reactions",
    "reply_count",
    "url",
    "text",
]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA) else value


@gc_paused
def render_csv(t: Transcript) -> str:
    return "".join(iter_csv(t))


def iter_csv(t: Transcript, *, rows_per_chunk: int = 2000) -> Iterator[str]:
    """The CSV in chunks of rows, so it can be streamed to disk."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for n, e in enumerate(t.entries, 1):
        m = e.msg
        b = e.block
        w.writerow(
            (
                m.created.isoformat(),
                e.local.isoformat(),
                m.platform,
                m.id,
                m.author_id,
                _cell(m.author_name),
                _cell(m.author_handle),
                1 if m.is_host else 0,
                b.kind if b is not None else "unplaced",
                b.label if b is not None and b.kind == "question" else "",
                "/".join(map(str, m.extra_questions)),
                m.method,
                round(m.confidence, 2),
                m.reply_to or "",
                e.depth,
                m.edited.isoformat() if m.edited else "",
                1 if m.redacted_text is not None else 0,
                m.reactions,
                e.reply_count,
                _cell(m.url),
                _cell(e.text),
            )
        )
        if n % rows_per_chunk == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
