"""The CSV is encoded by hand (for speed): it is what csv.writer writes, and reads back.

Checked cell by cell against csv.writer on any text without a carriage return, and on any
text at all that csv.reader reads back exactly what was written (csv.writer leaves a lone
carriage return unquoted, and readers end the row there; ours quotes it). Then as a whole
on sessions whose every user-supplied value (ids, names, handles, roles, links, text, the
tag style) is hostile: each row parses back into the 25 columns, and without carriage
returns csv.writer, given the parsed rows, writes the same bytes.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive.records import SessionRow, StoredMessage
from bot.transcript import build_transcript, render_csv
from bot.transcript.build import assemble, item_post_ids, local_clock
from bot.transcript.model import Transcript
from bot.transcript.read_ahead import read_ahead
from bot.transcript.render_csv import COLUMNS, csv_field
from bot.transcript.sources import MemorySource
from tests.transcript import sample as S

# Text that leans on what CSV quoting is about: commas, quotes, line ends, formula starts.
nasty = st.text(alphabet=st.sampled_from(list(',"\r\n\t =+-@\'a b\x00é\u2028')) | st.characters(),
                max_size=12)

# csv.writer leaves a cell holding a lone carriage return unquoted (readers then end the
# row there); ours quotes it, so byte-for-byte comparisons with csv.writer leave it out.
no_cr = nasty.map(lambda s: s.replace("\r", ""))


def writer_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.lists(no_cr, min_size=2, max_size=4))
def test_a_cell_is_encoded_as_csv_writer_encodes_it(cells: list[str]) -> None:
    assert ",".join(map(csv_field, cells)) + "\n" == writer_line(cells)


@settings(max_examples=300, deadline=None)
@given(st.lists(nasty, min_size=2, max_size=4))
def test_any_cells_read_back_as_they_were_written(cells: list[str]) -> None:
    line = ",".join(map(csv_field, cells)) + "\n"
    assert list(csv.reader(io.StringIO(line, newline=""))) == [cells]


def test_a_lone_carriage_return_no_longer_splits_a_row() -> None:
    # What csv.writer writes: the reader ends the row at the bare carriage return.
    assert list(csv.reader(io.StringIO(writer_line(["a\rb", "c"]), newline=""))) != \
        [["a\rb", "c"]]
    assert csv_field("a\rb") == '"a\rb"'


def _with_cells_made_ahead(session: SessionRow, messages: list[StoredMessage],
                           roles: dict[tuple[str, str], str]) -> Transcript:
    """The transcript as the CLI builds it: the cells attribution does not decide made ahead."""
    items = S.items()
    post_keys = item_post_ids(items)
    made = read_ahead(messages, post_keys, session.hashtag, local_clock(session.timezone))
    t = assemble(session, items, MemorySource(messages, post_keys), roles=roles,
                 ahead=lambda: made)
    assert len(t.csv_cells) == len(t.layout)
    return t


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(no_cr, no_cr, no_cr, no_cr, no_cr), min_size=1, max_size=8),
       no_cr, st.sampled_from(["Q", "T", 'Q,"']),
       st.sampled_from(["Europe/London", "Asia/Kolkata", "America/St_Johns", "No/Such_Zone"]),
       st.booleans())
def test_rows_of_hostile_values_read_back_as_written(
        people: list[tuple[str, str, str, str, str]], role: str, tag_style: str, zone: str,
        edited: bool) -> None:
    messages = []
    for i, (name, handle, text, url, mid) in enumerate(people):
        messages.append(S.msg(f"{mid}-{i}", 6 + i, name or "x", text, author_id=f"{name}-{i}",
                              author_handle=handle or None, url=url or None,
                              reply_to=f"{people[0][4]}-0" if i else None,
                              edited=S.at(7 + i) if edited and i % 2 else None,
                              redacted_text="[removed]" if i == 2 else None,
                              **S.q(1 + i % 3)))
    session = S.session(tag_style=tag_style, timezone=zone)
    roles = {("web", f"{people[0][0]}-0"): role}
    t = build_transcript(session, S.items(), messages, roles=roles)
    text = render_csv(t)
    # Cells made ahead (in the CLI's worker) give the same bytes as cells made row by row.
    assert render_csv(_with_cells_made_ahead(session, messages, roles)) == text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == COLUMNS
    assert all(len(r) == len(COLUMNS) for r in rows)
    # csv.writer, given what the reader found, writes the same bytes back.
    assert "".join(writer_line(r) for r in rows) == text
    by_id = {r[COLUMNS.index("id")]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    for e in t.in_time_order():
        row = by_id[e.msg.id]
        assert row["author_id"] == e.msg.author_id
        assert row["reply_to"] == (e.msg.reply_to or "")
        assert row["question"] == (e.label if e.block and e.block.kind == "question" else "")
        for column, value in (("author_name", e.msg.author_name), ("text", e.text),
                              ("author_handle", e.msg.author_handle), ("url", e.msg.url),
                              ("role", e.role)):
            # As typed, or with the apostrophe that keeps a spreadsheet from running it.
            assert row[column] in (value or "", "'" + (value or ""))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(nasty, nasty), min_size=1, max_size=8))
def test_rows_holding_carriage_returns_read_back_whole(people: list[tuple[str, str]]) -> None:
    messages = [S.msg(f"m{i}", 6 + i, (name or "x") + "\r", "A1 " + text + "\r" + text,
                      author_id=f"p{i}", **S.q(1)) for i, (name, text) in enumerate(people)]
    t = build_transcript(S.session(), S.items(), messages)
    rows = list(csv.reader(io.StringIO(render_csv(t), newline="")))
    assert all(len(r) == len(COLUMNS) for r in rows)
    texts = {r[COLUMNS.index("id")]: r[COLUMNS.index("text")] for r in rows[1:]}
    assert {f"m{i}": "A1 " + text + "\r" + text for i, (_, text) in enumerate(people)} \
        .items() <= texts.items()


def test_a_like_count_beyond_32_bits_is_written_as_it_came() -> None:
    # A hostile (or very popular) export's count must not stop the transcript being built.
    big = 2**31 + 5
    t = build_transcript(S.session(), S.items(), [S.msg("m1", 6, "Ann", "A1 hi", reactions=big,
                                                        **S.q(1))])
    rows = list(csv.reader(io.StringIO(render_csv(t), newline="")))
    assert rows[1][COLUMNS.index("reactions")] == str(big)
