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

import re
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
# What makes a cell quoted: what makes csv.writer quote it (delimiter, quote character, the
# "\n" line end), and a carriage return, which csv.writer leaves bare when rows end in a
# line feed: readers (spreadsheets, csv.reader) would end the row there, splitting it.
_NEEDS_QUOTES = re.compile('[,"\r\n]').search


def _cell(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA) else value


@gc_paused
def render_csv(t: Transcript) -> str:
    """The transcript as CSV text, one row per shown message."""
    return "".join(iter_csv(t))


def csv_field(value: str) -> str:
    """A text cell as `csv.writer` (excel dialect, line feed line ends) writes it, safer.

    Quoted, with quotes doubled, when it holds a comma, a quote, a line feed or a carriage
    return (which csv.writer leaves bare); as it is otherwise. Written by hand because
    csv.writer's per-cell work was most of the CSV's cost.
    """
    if _NEEDS_QUOTES(value) is None:
        return value
    return '"' + value.replace('"', '""') + '"'


def iter_csv(t: Transcript, *, rows_per_chunk: int = 2000) -> Iterator[str]:
    """The CSV in chunks of rows, so it can be streamed to disk."""
    yield ",".join(map(csv_field, COLUMNS)) + "\n"
    # Values that repeat across rows (a person's cells, a block's columns, a zone offset,
    # a platform or method name) are encoded once; at 100k rows the per-row work is the cost.
    words: dict[str, str] = {}  # few distinct values: platform, method, kind
    people: dict[tuple[str, str, str | None, str, bool], str] = {}
    blocks: dict[Block | None, tuple[str, str]] = {}  # section and question columns
    utc_like: dict[tzinfo | None, bool] = {}
    confidences: dict[float, float] = {}
    # Blank where the platform gave no count (never 0): see docs/transcript-schema.md.
    followers = {p.key: "" if p.followers is None else p.followers for p in t.participants}
    rows: list[str] = []
    for e in t.in_time_order():
        m = e.msg
        b = e.block
        bcols = blocks.get(b)
        if bcols is None:
            bcols = blocks[b] = (
                (csv_field(b.kind), csv_field(b.label) if b.kind == "question" else "")
                if b is not None else ("unplaced", ""))
        section, question = bcols
        who = (m.author_id, m.author_name, m.author_handle, e.role, m.is_host)
        person = people.get(who)
        if person is None:
            person = people[who] = ",".join((
                csv_field(m.author_id), csv_field(_cell(m.author_name)),
                csv_field(_cell(m.author_handle)), csv_field(_cell(e.role)),
                "1" if m.is_host else "0"))
        platform = words.get(m.platform) or words.setdefault(m.platform, csv_field(m.platform))
        method = words.get(m.method) or words.setdefault(m.method, csv_field(m.method))
        kind = words.get(e.kind) or words.setdefault(e.kind, csv_field(e.kind))
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
        extra = "/".join(map(str, m.extra_questions)) if m.extra_questions else ""
        edited = m.edited.isoformat() if m.edited else ""
        rows.append(
            f"{created},{local},{platform},{csv_field(m.id)},{person},{section},{kind},{question},"
            f"{extra},{method},{conf},"
            f"{csv_field(m.reply_to) if m.reply_to else ''},{e.depth},{edited},"
            f"{1 if m.redacted_text is not None else 0},{m.reactions},{e.reply_count},"
            f"{e.media},{followers.get((m.platform, m.author_id), '')},"
            f"{csv_field(_cell(m.url))},{csv_field(_cell(e.text))}\n"
        )
        if len(rows) >= rows_per_chunk:
            yield "".join(rows)
            rows.clear()
    yield "".join(rows)


def _utc_like(zone: tzinfo | None, sample: datetime) -> bool:
    """Whether times in `zone` (a fixed offset from the model's hour cache) print like UTC."""
    return isinstance(zone, timezone) and zone.utcoffset(sample) == timedelta(0)
