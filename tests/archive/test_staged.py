"""Held rows handed over as a SQLite image store exactly what binding them row by row stores.

bot/archive/staged.py: a worker binds attributed rows into a database in its memory and
sends its bytes; the writer inserts them with one INSERT ... SELECT. Compared here with
`insert_rows` of the same attributed rows on an archive in the same state: every column of
every row, by rowid (the full-text index is keyed by it), the index's terms, and the count
of rows inserted or changed. The archive may already hold some of the messages (a
re-import: a missing chat id filled, a new like count taken) and an image may repeat one.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.archive.staged as staged
from bot.archive import Archive
from bot.archive.bulk import Batch, attributed_row, insert_rows, transaction
from bot.archive.staged import can_stage, handed_over, insert_staged, staged_rows, staging
from bot.records import Author, Message

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def _rows(specs: list[tuple[int, str, int, bool, bool]]) -> list[tuple[Any, ...]]:
    """`Batch` rows of (id, text, likes, chat known, edited), in the order given."""
    rows = []
    for n, text, likes, chat, edited in specs:
        batch = Batch("nhssm" if chat else None, received_at="2026-01-08T09:00:00+00:00")
        author = Author("x", f"u{n % 3}", f"User [{n % 3}]", f"user{n % 3}",
                        followers=n if n % 2 else None)
        batch.add(Message("x", str(1000 + n), author, text, T0 + timedelta(seconds=n),
                          reply_to=str(1000 + n - 1) if n % 4 == 0 else None,
                          edited=T0 + timedelta(minutes=n) if edited else None,
                          reactions=likes, url=f"https://x.com/i/web/status/{1000 + n}",
                          raw={}))
        rows.extend(batch.rows)
    return rows


def _values(n: int) -> tuple[Any, ...]:
    """Some `attribution_values`: question, section, method, confidence, extras (JSON)."""
    return ((n % 3) or None, "answers" if n % 3 else "unplaced", "tag" if n % 2 else "window",
            0.25 * (n % 5), "[2, 3]" if n % 7 == 0 else "[]")


def _contents(archive: Archive) -> tuple[list[Any], list[Any]]:
    """Every message row with its rowid, and the full-text index's terms by rowid."""
    conn = archive.db.conn
    rows = conn.execute("select rowid, * from messages order by rowid").fetchall()
    conn.execute("create virtual table if not exists temp.terms "
                 "using fts5vocab(main, messages_fts, instance)")
    terms = sorted(conn.execute("select term, doc, col, offset from temp.terms").fetchall())
    conn.execute("drop table temp.terms")
    return rows, terms


def _both(tmp_path: Path, before: list[tuple[Any, ...]],
          sessions: list[list[tuple[Any, ...]]]) -> tuple[Any, Any]:
    """Each session's attributed rows bound row by row, and staged: (contents, counts) each."""
    results = []
    for way in ("bound", "staged"):
        archive = Archive(tmp_path / f"{way}.db")
        try:
            insert_rows(archive, before)
            counts = []
            with staging(archive), transaction(archive):
                for sid, rows in enumerate(sessions, 1):
                    values = [_values(i) for i in range(len(rows))]
                    if way == "bound":
                        counts.append(insert_rows(archive, [
                            attributed_row(r, sid, v) for r, v in zip(rows, values, strict=True)]))
                    else:
                        counts.append(insert_staged(archive, staged_rows(rows, sid, values)))
            results.append((_contents(archive), counts))
        finally:
            archive.close()
    return results[0], results[1]


def test_this_python_can_stage() -> None:
    """This machine's Python and SQLite take the staged path (the tests below use it)."""
    assert can_stage()


class _Refusing(sqlite3.Connection):
    """A connection as a SQLite that refuses what the writer does would answer."""

    refuse = "load"

    def deserialize(self, data: Any, /, *, name: str = "main") -> None:
        # SQLite 3.54 and later: no image loaded into a database attached to a connection
        # in a transaction.
        if self.refuse == "load" and self.in_transaction:
            raise sqlite3.OperationalError("database is locked")
        super().deserialize(data, name=name)

    def serialize(self, *, name: str = "main") -> bytes:
        if self.refuse == "serialize":  # what sqlite3 says when SQLite is out of memory
            raise sqlite3.OperationalError(f"unable to serialize '{name}'")
        return super().serialize(name=name)


@pytest.fixture
def refusing(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every connection staged.py opens is a `_Refusing` one; `can_stage` asked afresh."""
    connect = sqlite3.connect
    monkeypatch.setattr(staged.sqlite3, "connect",
                        lambda *args, **kwargs: connect(*args, factory=_Refusing, **kwargs))
    can_stage.cache_clear()
    yield _Refusing
    can_stage.cache_clear()


def test_a_sqlite_that_will_not_load_an_image_in_a_transaction_is_not_staged(
        refusing: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """It says so once, to `can_stage`; the worker then hands over values, as before."""
    monkeypatch.setattr(refusing, "refuse", "load")
    assert not can_stage()
    rows = _rows([(1, "A1 yes", 0, True, False)])
    assert handed_over(rows, 1, [_values(1)]) == [_values(1)]


def test_a_worker_that_cannot_make_the_image_hands_over_values(
        refusing: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of memory in SQLite ("unable to serialize"), or a session too big to copy."""
    rows = _rows([(n, f"A1 yes {n}", 0, True, False) for n in range(3)])
    values = [_values(n) for n in range(3)]
    monkeypatch.setattr(refusing, "refuse", "nothing")
    assert can_stage() and isinstance(handed_over(rows, 1, values), bytes)
    monkeypatch.setattr(staged, "STAGE_AT_MOST", 2)
    assert handed_over(rows, 1, values) == values
    monkeypatch.setattr(staged, "STAGE_AT_MOST", 3)
    monkeypatch.setattr(refusing, "refuse", "serialize")
    assert handed_over(rows, 1, values) == values


texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
specs = st.lists(st.tuples(st.integers(0, 30), texts, st.integers(0, 3), st.booleans(),
                           st.booleans()), max_size=25)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=specs, sessions=st.lists(specs, min_size=1, max_size=3))
def test_staged_rows_store_what_bound_rows_store(
        tmp_path_factory: pytest.TempPathFactory, before: list[Any],
        sessions: list[list[Any]]) -> None:
    """Any texts (NUL, markup, emoji), repeats within and across sessions and the archive."""
    folder = tmp_path_factory.mktemp("staged")
    bound, staged = _both(folder, _rows(before),
                          [_rows(session) for session in sessions])
    assert staged == bound


def test_a_message_the_archive_has_keeps_its_text_and_takes_a_new_like_count(
        tmp_path: Path) -> None:
    """The upsert's rules hold for the staged insert (counted as the bound one counts)."""
    before = _rows([(1, "A1 first", 0, False, False), (2, "A1 kept", 2, True, False)])
    again = _rows([(1, "A1 changed text", 5, True, False), (2, "A1 other", 2, True, False),
                   (3, "A2 new", 0, True, False), (3, "A2 new", 4, True, False)])
    bound, staged = _both(tmp_path, before, [again])
    assert staged == bound
    (rows, _), counts = staged
    assert counts == [3]  # 1: chat id and likes taken; 2: nothing new; 3 inserted, then liked
    text = {row[2]: (row[8], row[20], row[4]) for row in rows}  # id: text, likes, chat
    assert text["1001"] == ("A1 first", 5, "nhssm")
    assert text["1003"] == ("A2 new", 4, "nhssm")


def test_images_one_after_another_in_one_transaction_and_no_rows(tmp_path: Path) -> None:
    """The attached schema takes each image in turn; an empty session sends nothing."""
    assert staged_rows([], 1, []) == b""
    archive = Archive(tmp_path / "a.db")
    try:
        with staging(archive), transaction(archive):
            assert insert_staged(archive, b"") == 0
            for sid in (1, 2):
                rows = _rows([(10 * sid + k, f"A{k} words", 0, True, False) for k in range(3)])
                insert_staged(archive, staged_rows(rows, sid, [_values(k) for k in range(3)]))
        found = archive.db.execute("select session_id, count(*) from messages "
                                   "group by session_id").fetchall()
        assert found == [(1, 3), (2, 3)]
        hits = archive.db.execute("select count(*) from messages_fts where messages_fts "
                                  "match '\"words\"'").fetchone()[0]
        assert hits == 6
    finally:
        archive.close()


def test_staging_leaves_nothing_attached_and_nothing_on_disk(tmp_path: Path) -> None:
    """The image lives in memory only: detached after, whatever happened inside."""
    archive = Archive(tmp_path / "a.db")
    files = sorted(p.name for p in tmp_path.iterdir())
    try:
        with staging(archive):
            attached = archive.db.execute("pragma database_list").fetchall()
            assert [(name, file) for _, name, file in attached if name == "staged"] == [
                ("staged", "")]  # "": in memory, no file
        with pytest.raises(ZeroDivisionError), staging(archive):
            raise ZeroDivisionError
        names = [name for _, name, _ in archive.db.execute("pragma database_list")]
        assert "staged" not in names and "main" in names
        assert sorted(p.name for p in tmp_path.iterdir()) == files
    finally:
        archive.close()


def test_a_failed_staged_insert_rolls_back_its_transaction(tmp_path: Path) -> None:
    """Like a bound insert: nothing of the transaction stays (the import runs it again)."""
    archive = Archive(tmp_path / "a.db")
    try:
        rows = _rows([(1, "A1 yes", 0, True, False)])
        image = staged_rows(rows, 1, [_values(1)])
        with staging(archive):
            with pytest.raises(sqlite3.DatabaseError), transaction(archive):
                insert_staged(archive, image)
                insert_staged(archive, b"not a database image at all")
                archive.db.execute("select * from staged.held").fetchall()
        assert archive.db.execute("select count(*) from messages").fetchone()[0] == 0
    finally:
        archive.close()
