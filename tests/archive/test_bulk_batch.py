"""The import's write path: batches of rows built from messages as they stream in."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.archive.bulk import Batch, store_batch
from bot.records import Author, Message

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def message(n: int) -> Message:
    author = Author("x", f"u{n % 3}", f"User {n % 3}", f"user{n % 3}")
    return Message("x", str(1000 + n), author, f"A1 answer {n}", T0 + timedelta(seconds=n),
                   raw={"data": {"id": str(1000 + n), "n": n}})


def batch_of(ns: range) -> Batch:
    batch = Batch("nhssm")
    for n in ns:
        batch.add(message(n))
    return batch


def test_batches_are_stored_and_counted(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    changed = store_batch(archive, batch_of(range(0, 50)))
    changed += store_batch(archive, batch_of(range(50, 120)))
    changed += store_batch(archive, batch_of(range(100, 130)))  # 20 already stored: unchanged
    changed += store_batch(archive, Batch("nhssm"))  # an empty batch writes nothing
    assert changed == 130
    rows = archive.db.execute("select count(*), min(id), max(id) from messages").fetchone()
    assert rows == (130, "1000", "1129")
    raw = archive.db.execute("select raw from message_raw where id = '1007'").fetchone()[0]
    assert raw == '{"data":{"id":"1007","n":7}}'
    seen = archive.db.execute("select first_seen, last_seen from participants "
                              "where id = 'u1'").fetchone()
    assert seen == ((T0 + timedelta(seconds=1)).isoformat(),
                    (T0 + timedelta(seconds=127)).isoformat())
    hits = archive.db.execute("select count(*) from messages_fts where messages_fts match "
                              "'\"answer\"'").fetchone()[0]
    assert hits == 130  # the full-text index got every row, in bulk
    archive.close()


def test_a_failing_batch_rolls_back_whole_and_earlier_batches_stay(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    store_batch(archive, batch_of(range(0, 10)))
    bad = batch_of(range(10, 20))
    bad.rows[3] = bad.rows[3][:5]  # a row of the wrong width: the batch is refused
    with pytest.raises((sqlite3.ProgrammingError, IndexError)):
        store_batch(archive, bad)
    assert archive.db.execute("select count(*) from messages").fetchone()[0] == 10
    trigger = archive.db.execute("select count(*) from sqlite_master where type = 'trigger' "
                                 "and name = 'messages_ai'").fetchone()[0]
    assert trigger == 1  # the insert trigger, dropped inside the batch, is back
    assert store_batch(archive, batch_of(range(10, 20))) == 10
    archive.close()


def test_messages_built_in_one_step_behave_as_frozen_dataclasses() -> None:
    a = Author("x", "1", "Ann")
    assert (a.handle, a.is_bot) == (None, False)
    m = Message("x", "9", a, "hi", T0)
    assert (m.reply_to, m.thread_id, m.channel_id, m.edited, m.reactions, m.url, m.kind,
            m.raw) == (None, None, None, None, 0, None, "message", {})
    assert m.raw is not Message("x", "9", a, "hi", T0).raw  # a fresh dict each, as before
    assert dataclasses.replace(m, text="bye") == Message("x", "9", a, "bye", T0)
    assert hash(a) == hash(Author("x", "1", "Ann"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.text = "changed"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(m)] == list(vars(m))  # every field, in order
    assert [f.name for f in dataclasses.fields(a)] == list(vars(a))
    assert (a.followers, m.media) == (None, 0)


def test_every_batch_row_holds_what_the_insert_writes_as_constants() -> None:
    """`insert_rows` writes a new row's visibility columns as constants and its text once.

    So whatever a Batch row is made from (edited, with media, follower counts, a reply),
    it must hold exactly those values, or the archive would differ from what it holds.
    """
    from bot.archive.bulk import _COLUMNS, _NEW_ROW, _SAME_AS

    batch = Batch("nhssm")
    plain = message(1)
    author = dataclasses.replace(plain.author, followers=250)
    for msg in (plain,
                dataclasses.replace(plain, id="2", edited=T0 + timedelta(minutes=5)),
                dataclasses.replace(plain, id="3", media=2, author=author, reply_to="1"),
                dataclasses.replace(plain, id="4", text="", reactions=7, kind="quote")):
        batch.add(msg)
    constants = {"0": 0, "NULL": None}
    for row in batch.rows:
        for column, value in _NEW_ROW.items():
            assert row[_COLUMNS.index(column)] == constants[value], column
        for column, same in _SAME_AS.items():
            assert row[_COLUMNS.index(column)] == row[_COLUMNS.index(same)]


def test_rows_read_back_as_written(tmp_path: Path) -> None:
    """Every column of a stored Batch row, the constants and the shared text included."""
    from bot.archive.bulk import _COLUMNS

    archive = Archive(tmp_path / "a.db")
    batch = batch_of(range(0, 5))
    store_batch(archive, batch)
    stored = archive.db.execute(
        f"select {', '.join(_COLUMNS)} from messages order by rowid").fetchall()
    # A row ends with its screening (None: clean), past the columns.
    assert stored == [tuple(row[:len(_COLUMNS)]) for row in batch.rows]
    assert {row[len(_COLUMNS):] for row in batch.rows} == {(None,)}
    archive.close()
