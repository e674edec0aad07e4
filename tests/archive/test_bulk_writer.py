"""The import's write path: batches built from messages, written on a worker thread."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.archive.bulk import BackgroundWriter, Batch, store_batch
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


def test_batches_are_written_in_order_and_counted(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    writer = BackgroundWriter(archive)
    changed = writer.submit(batch_of(range(0, 50)))
    changed += writer.submit(batch_of(range(50, 120)))
    changed += writer.submit(batch_of(range(100, 130)))  # 20 already stored: unchanged
    changed += writer.finish()
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


def test_a_failing_batch_raises_in_the_caller_and_earlier_batches_stay(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    writer = BackgroundWriter(archive)
    writer.submit(batch_of(range(0, 10)))
    bad = batch_of(range(10, 20))
    bad.rows[3] = bad.rows[3][:5]  # a row of the wrong width: SQLite refuses the batch
    writer.submit(bad)
    with pytest.raises(sqlite3.ProgrammingError):
        writer.finish()
    writer.close()
    # The bad batch rolled back whole; the archive is usable from this thread again.
    assert archive.db.execute("select count(*) from messages").fetchone()[0] == 10
    assert store_batch(archive, batch_of(range(10, 20))) == 10
    archive.close()


def test_close_after_an_error_in_the_reader_waits_for_the_batch_in_flight(
    tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "a.db")
    writer = BackgroundWriter(archive)
    writer.submit(batch_of(range(0, 500)))
    writer.close()  # as import_stream's finally does when parsing fails
    assert archive.db.execute("select count(*) from messages").fetchone()[0] == 500
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
