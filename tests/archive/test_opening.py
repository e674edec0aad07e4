"""An `[archive] path` that is not an archive is refused as one line, and left untouched."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.archive import store as store_module
from bot.archive.bulk import store_messages
from bot.archive.opening import ArchiveError
from bot.cli import _is_user_error
from bot.records import Author, Message
from tests.test_cli import tweetchat


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _random(path: Path) -> Path:
    path.write_bytes(hashlib.sha512(b"seed").digest() * 1000)
    return path


def _text(path: Path) -> Path:
    path.write_text("hello\n")
    return path


def _truncated(path: Path) -> Path:
    Archive(path).close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _first_page_damaged(path: Path) -> Path:
    Archive(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema, after the 100-byte header
    path.write_bytes(bytes(data))
    return path


DAMAGE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "folder": (_folder, "is a folder"),
    "random bytes": (_random, "not a SQLite database"),
    "text file": (_text, "not a SQLite database"),
    "truncated": (_truncated, "damaged"),
    "damaged schema": (_first_page_damaged, "restore it from a backup"),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_opening_a_damaged_path_is_an_archive_error(tmp_path: Path, kind: str) -> None:
    make, words = DAMAGE[kind]
    path = make(tmp_path / "archive.db")
    with pytest.raises(ArchiveError, match=words) as caught:
        Archive(path)
    assert str(path) in str(caught.value)
    assert _is_user_error(caught.value)  # printed by every command as one line


def test_a_device_is_refused() -> None:
    with pytest.raises(ArchiveError, match="not a regular file"):
        Archive("/dev/null")


def _foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    return path


def test_another_programs_database_is_refused_without_a_byte_written(tmp_path: Path) -> None:
    path = _foreign(tmp_path / "shop.db")
    before = path.read_bytes()
    with pytest.raises(ArchiveError, match="not a tweetchat archive"):
        Archive(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.db"]  # no -wal, no -shm


def test_an_empty_sqlite_file_and_an_archive_still_open(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a zero-byte file, as `sqlite3 FILE ''` leaves
    Archive(empty).close()
    Archive(empty).close()  # now an archive: opened again
    blank = tmp_path / "blank.db"
    conn = sqlite3.connect(blank)
    conn.execute("PRAGMA user_version=1")  # a database with a header and no tables
    conn.close()
    Archive(blank).close()


def test_an_archive_locked_past_the_busy_timeout_is_in_use(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    path = tmp_path / "archive.db"
    Archive(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    try:
        with pytest.raises(ArchiveError, match="is in use"):
            Archive(path)
    finally:
        holder.execute("COMMIT")
        holder.close()


def _message(number: str, text: str) -> Message:
    return Message("x", number, Author("x", "u1", "User 1", "u1"), text,
                   datetime(2026, 1, 7, 20, 0, tzinfo=UTC), raw={})


def test_opening_the_archive_again_keeps_the_locks_of_this_process(tmp_path: Path) -> None:
    """The bot opens a second handle to render a transcript; then `tweetchat sessions` runs.

    POSIX locks belong to the process, not to a descriptor: had opening the file to look
    at it closed a descriptor of its own, SQLite's locks held by the bot's first
    connection would be gone, and the other command, closing last as far as SQLite could
    tell, would delete the write-ahead log (with the bot's latest commits) under the bot.
    """
    path = tmp_path / "archive.db"
    bot = Archive(path)
    store_messages(bot, [_message("1", "kept in the log until a checkpoint")], chat_id="c")
    Archive(path).close()  # a second handle in the same process, as a render opens one
    other = subprocess.run(  # another command opens the archive and closes it
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM messages').fetchone(); c.close()", str(path)],
        capture_output=True, text=True, check=False)
    assert other.returncode == 0, other.stderr
    try:
        assert (tmp_path / "archive.db-wal").exists(), "the bot's write-ahead log was deleted"
        assert bot.db.execute("SELECT text FROM messages").fetchall() == [
            ("kept in the log until a checkpoint",)]
        store_messages(bot, [_message("2", "and written after")], chat_id="c")
    finally:
        bot.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("SELECT count(*) FROM messages").fetchone() == (2,)
    check.close()


@pytest.mark.parametrize("args", [
    ["sessions"], ["search", "hello"], ["transcript", "1"], ["forget", "x:1"], ["review"],
])
def test_every_command_says_so_in_one_line(tmp_path: Path, args: list[str]) -> None:
    path = _random(tmp_path / "archive.db")
    result = tweetchat(tmp_path, *args, TWEETCHAT_ARCHIVE=str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 2 and "not a SQLite database" in result.stderr


def _tables_damaged(path: Path) -> Path:
    """An archive whose schema and record of upgrades are sound but whose tables are not."""
    Archive(path).close()
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    sound = {1, conn.execute("SELECT rootpage FROM sqlite_master "
                             "WHERE name = '_sqlite_migrations'").fetchone()[0]}
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with path.open("r+b") as f:
        for page in set(range(1, pages + 1)) - sound:
            f.seek((page - 1) * page_size)
            f.write(b"\xa5" * page_size)
    return path


def _messages_damaged(path: Path) -> Path:
    """An archive that opens (its schema and sessions sound) with its messages' pages not.

    A session of 3,000 messages: what reads them meets the damage, what opens does not.
    """
    archive = Archive(path)
    start = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
    session = archive.create_session(
        chat_id="nhssm", title="NHSSM", hashtag="#NHSSM", timezone="Europe/London",
        scheduled_start=start, duration_minutes=60, platforms=["x"], items=[])
    store_messages(archive, [
        Message("x", str(1000 + n), Author("x", f"u{n % 5}", f"User {n % 5}", f"u{n % 5}"),
                f"A1 hello, words number {n} " * 4, start + timedelta(seconds=n), raw={})
        for n in range(3000)], chat_id="nhssm")
    archive.db.execute("update messages set session_id = ?", [session])
    archive.close()
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'messages' "
                                          "ORDER BY pageno")]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert len(pages) > 10
    with path.open("r+b") as f:
        for page in pages[1:]:  # the root kept: the table is found, its rows are not
            f.seek((page - 1) * page_size)
            f.write(b"\xa5" * page_size)
    return path


@pytest.mark.parametrize(("damage", "args"), [
    (_tables_damaged, ["forget", "x:1"]),
    (_messages_damaged, ["search", "hello"]),
    (_messages_damaged, ["transcript", "1"]),
    (_messages_damaged, ["sessions"]),
])
def test_damage_met_after_opening_is_one_line_too(
        tmp_path: Path, damage: Callable[[Path], Path], args: list[str]) -> None:
    path = damage(tmp_path / "archive.db")
    result = tweetchat(tmp_path, *args, TWEETCHAT_ARCHIVE=str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "is damaged" in result.stderr and "restore it from a backup" in result.stderr
