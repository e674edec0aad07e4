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

from bot.archive.records import StoredMessage
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


# A message's cells that attribution does not decide: time_utc to author_handle as one
# run, edited to reactions as another, then reply_to, url and text, each None where the
# cell is the value itself (most are: nothing to send back for them). The read-ahead
# worker makes them for every public message (by position) while the parent attributes
# the session; the CSV then only joins them with the cells attribution decides.
FixedCells = tuple[str, str, str | None, str | None, str | None]


class Fixed:
    """Makes each message's `FixedCells`; values that repeat across rows are encoded once."""

    def __init__(self) -> None:
        self._people: dict[tuple[str, str, str | None], str] = {}
        self._platforms: dict[str, str] = {}
        self._mids: dict[tuple[int, int], str] = {}  # (redacted, reactions), not edited
        self._utc_like: dict[tzinfo | None, bool] = {}

    def __call__(self, m: StoredMessage, text: str, loc: datetime) -> FixedCells:
        """The cells of message `m`, whose public text is `text`, shown at local time `loc`."""
        who = (m.author_id, m.author_name, m.author_handle)
        person = self._people.get(who)
        if person is None:
            person = self._people[who] = ",".join((
                csv_field(m.author_id), csv_field(_cell(m.author_name)),
                csv_field(_cell(m.author_handle))))
        platform = self._platforms.get(m.platform)
        if platform is None:
            platform = self._platforms[m.platform] = csv_field(m.platform)
        created = m.created.isoformat()
        zone = loc.tzinfo
        same = self._utc_like.get(zone)
        if same is None:
            same = self._utc_like[zone] = _utc_like(zone, loc)
        # With a zero offset the local time prints exactly like the UTC one (unless it is a
        # paced rehearsal's script time).
        utc = same and m.created.tzinfo is UTC and loc == m.created
        local = created if utc else loc.isoformat()
        redacted = 1 if m.redacted_text is not None else 0
        if m.edited:
            mid = f"{m.edited.isoformat()},{redacted},{m.reactions}"
        else:  # one shared string per count: sent back (pickled) once, not per message
            mid = self._mids.get((redacted, m.reactions)) or self._mids.setdefault(
                (redacted, m.reactions), f",{redacted},{m.reactions}")
        reply_to = csv_field(m.reply_to) if m.reply_to else ""
        url = csv_field(_cell(m.url))
        shown = csv_field(_cell(text))
        return (f"{created},{local},{platform},{csv_field(m.id)},{person}", mid,
                None if reply_to == (m.reply_to or "") else reply_to,
                None if url == (m.url or "") else url,
                None if shown == text else shown)


def iter_csv(t: Transcript, *, rows_per_chunk: int = 2000) -> Iterator[str]:
    """The CSV in chunks of rows, so it can be streamed to disk."""
    yield ",".join(map(csv_field, COLUMNS)) + "\n"
    # Values that repeat across rows (a role, a block's columns, a method or kind name) are
    # encoded once; at 100k rows the per-row work is the cost.
    words: dict[str, str] = {}  # few distinct values: method, kind
    roles: dict[str, str] = {}
    blocks: dict[Block | None, tuple[str, str]] = {}  # section and question columns
    confidences: dict[float, float] = {}
    # Blank where the platform gave no count (never 0): see docs/transcript-schema.md.
    followers = {p.key: "" if p.followers is None else p.followers for p in t.participants}
    made = t.csv_cells  # by position, when made ahead; else made here
    fixed = Fixed()
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
        role = roles.get(e.role)
        if role is None:
            role = roles[e.role] = csv_field(_cell(e.role))
        method = words.get(m.method) or words.setdefault(m.method, csv_field(m.method))
        kind = words.get(e.kind) or words.setdefault(e.kind, csv_field(e.kind))
        conf = confidences.get(m.confidence)
        if conf is None:
            conf = confidences[m.confidence] = round(m.confidence, 2)
        extra = "/".join(map(str, m.extra_questions)) if m.extra_questions else ""
        head, mid, reply_to, url, text = (made[e.index] if made and e.index >= 0
                                          else fixed(m, e.text, e.local))
        rows.append(
            f"{head},{role},{1 if m.is_host else 0},{section},{kind},{question},"
            f"{extra},{method},{conf},{(m.reply_to or '') if reply_to is None else reply_to},"
            f"{e.depth},{mid},{e.reply_count},"
            f"{e.media},{followers.get((m.platform, m.author_id), '')},"
            f"{(m.url or '') if url is None else url},{e.text if text is None else text}\n"
        )
        if len(rows) >= rows_per_chunk:
            yield "".join(rows)
            rows.clear()
    yield "".join(rows)


def _utc_like(zone: tzinfo | None, sample: datetime) -> bool:
    """Whether times in `zone` (a fixed offset from the model's hour cache) print like UTC."""
    return isinstance(zone, timezone) and zone.utcoffset(sample) == timedelta(0)
