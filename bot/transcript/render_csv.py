"""One CSV row per public message, in time order, with the question it answers.

The host's scripted posts (welcome, questions, close) are rows too, so a researcher has
the questions beside their answers; the `kind` column says what each row is (see
bot.transcript.kinds).

Text cells a spreadsheet would run as a formula (name, handle, url and text starting with
= + - @, tab or carriage return) get a leading apostrophe, the usual guard against CSV
injection; consumers that need the exact text should read the JSON. Platform ids are
written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from bot.gc_pause import gc_paused
from bot.transcript.model import Block, Transcript

COLUMNS = [
    "time_utc",
    "local_time",
    "platform",
    "id",
    "author_id",
    "author_name",
    "author_handle",
    "role",
    "host",
    "section",
    "kind",
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
    "media",
    "author_followers",
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
    """The transcript as CSV text, one row per shown message."""
    return "".join(iter_csv(t))


def iter_csv(t: Transcript, *, rows_per_chunk: int = 2000) -> Iterator[str]:
    """The CSV in chunks of rows, so it can be streamed to disk."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    # Values that repeat across rows (a person's name cells, a block's columns, a zone
    # offset) are worked out once; at 100k rows the per-row Python work is the cost.
    cells: dict[str | None, str] = {}
    blocks: dict[Block | None, tuple[str, str]] = {}
    utc_like: dict[tzinfo | None, bool] = {}
    confidences: dict[float, float] = {}
    # Blank where the platform gave no count (never 0): see docs/transcript-schema.md.
    followers = {p.key: "" if p.followers is None else p.followers for p in t.participants}
    rows: list[tuple[object, ...]] = []
    for e in t.in_time_order():
        m = e.msg
        b = e.block
        bcols = blocks.get(b)
        if bcols is None:
            bcols = blocks[b] = (
                b.kind if b is not None else "unplaced",
                b.label if b is not None and b.kind == "question" else "",
            )
        name, handle = m.author_name, m.author_handle
        name_cell = cells.get(name)
        if name_cell is None:
            name_cell = cells[name] = _cell(name)
        handle_cell = cells.get(handle)
        if handle_cell is None:
            handle_cell = cells[handle] = _cell(handle)
        created = m.created.isoformat()
        loc = e.local
        zone = loc.tzinfo
        same = utc_like.get(zone)
        if same is None:
            same = utc_like[zone] = _utc_like(zone, loc)
        # With a zero offset the local time prints exactly like the UTC one.
        local = created if same and m.created.tzinfo is UTC else loc.isoformat()
        conf = confidences.get(m.confidence)
        if conf is None:
            conf = confidences[m.confidence] = round(m.confidence, 2)
        rows.append(
            (
                created,
                local,
                m.platform,
                m.id,
                m.author_id,
                name_cell,
                handle_cell,
                _cell(e.role),
                1 if m.is_host else 0,
                bcols[0],
                e.kind,
                bcols[1],
                "/".join(map(str, m.extra_questions)) if m.extra_questions else "",
                m.method,
                conf,
                m.reply_to or "",
                e.depth,
                m.edited.isoformat() if m.edited else "",
                1 if m.redacted_text is not None else 0,
                m.reactions,
                e.reply_count,
                e.media,
                followers.get((m.platform, m.author_id), ""),
                _cell(m.url),
                _cell(e.text),
            )
        )
        if len(rows) >= rows_per_chunk:
            w.writerows(rows)
            rows.clear()
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    w.writerows(rows)
    yield buf.getvalue()


def _utc_like(zone: tzinfo | None, sample: datetime) -> bool:
    """Whether times in `zone` (a fixed offset from the model's hour cache) print like UTC."""
    return isinstance(zone, timezone) and zone.utcoffset(sample) == timedelta(0)
