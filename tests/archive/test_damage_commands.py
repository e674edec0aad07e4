"""Damage met after the archive opened is one line in every command that opens it.

Opening reads the schema and the record of upgrades; a table's pages are read only when a
command reaches them. Whatever command meets them, the user sees one line naming the
archive and how to fix it (exit status 2), never SQLite's traceback: one handler in the
CLI's main() says it for all of them (bot/archive/opening.py).
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import orjson
import pytest

from bot.archive import Archive
from bot.archive.opening import primary_code
from bot.archive.records import ItemRow
from bot.cli import _user_error
from bot.records import Author, Event, Message
from tests.conftest import chat_script, write_script
from tests.importers.test_wrong_file import _discord_export
from tests.importers.test_x_import_types import _host_lines
from tests.platforms.test_opennets_import import HOST_DID, status, view
from tests.test_cli import tweetchat

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def _flagged_session(path: Path) -> None:
    """An archive holding one ended session whose second message waits in the review queue."""
    archive = Archive(path)
    session = archive.create_session(
        chat_id="nhssm", title="NHSSM", hashtag="#NHSSM", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=["web"],
        items=[ItemRow(key="q1", number=1, text="Q1 How do you switch off?", due_offset=300,
                       status="sent", posted_at=T0 + timedelta(minutes=5))])
    events = []
    for n, text in enumerate(["A1 a walk", "A1 call me on 07700 900123"]):
        at = T0 + timedelta(minutes=6 + n)
        message = Message("web", f"m{n}", Author("web", f"u{n}", f"User {n}"), text, at)
        events.append(Event("created", "web", message.id, at, message))
    archive.record_events(events, session_id=session, chat_id="nhssm")
    archive.close()


def _pages_of(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[int]:
    """Every page of `tables` and of their indexes (SQLite's dbstat), sorted."""
    names = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE tbl_name IN "
        f"({', '.join('?' * len(tables))})", tables)]
    return sorted(n for (n,) in conn.execute(
        f"SELECT pageno FROM dbstat WHERE name IN ({', '.join('?' * len(names))})", names))


def _damage(path: Path, tables: tuple[str, ...]) -> Path:
    """Overwrite every page of `tables` (and their indexes) in the file at `path`."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = _pages_of(conn, tables)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert pages
    with path.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(b"\xa5" * page_size)
    return path


def _data_damaged(path: Path) -> Path:
    """An archive that opens (schema, record of upgrades) with every table's pages damaged."""
    _flagged_session(path)
    conn = sqlite3.connect(path)
    tables = tuple(name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND rootpage > 0 "
        "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'"))
    conn.close()
    return _damage(path, tables)


def _moderation_damaged(path: Path) -> Path:
    """A sound archive (sessions, messages) whose moderation tables alone are damaged."""
    _flagged_session(path)
    return _damage(path, ("moderation_events", "audit_log"))


def _one_line_naming(result: subprocess.CompletedProcess[str], path: Path) -> None:
    """The damage told as one line naming the archive and the fix; exit status 2.

    Only that line is an error (`start` logs its start-up before it).
    """
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()
              and not line.startswith((" ", "["))]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: ") and str(path) in errors[0], result.stderr
    assert "is damaged" in errors[0]
    assert "restore it from a backup, or try `sqlite3 ARCHIVE .recover`" in errors[0]


def test_review_meets_damaged_moderation_tables_in_one_line(tmp_path: Path) -> None:
    path = _moderation_damaged(tmp_path / "archive.db")
    Archive(path).close()  # it still opens: the damage shows only when the queue is read
    _one_line_naming(tweetchat(tmp_path, "review", TWEETCHAT_ARCHIVE=str(path)), path)


def test_review_deciding_on_damaged_moderation_tables_is_one_line(tmp_path: Path) -> None:
    path = _moderation_damaged(tmp_path / "archive.db")
    result = tweetchat(tmp_path, "review", "--decide", "1=hide", TWEETCHAT_ARCHIVE=str(path))
    _one_line_naming(result, path)


def _index_damaged(path: Path) -> Path:
    """A sound archive whose full-text search index alone is damaged."""
    _flagged_session(path)
    conn = sqlite3.connect(path)
    shadows = tuple(name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'messages_fts_%'"))
    conn.close()
    return _damage(path, shadows)


def test_search_meeting_a_damaged_index_is_one_line(tmp_path: Path) -> None:
    path = _index_damaged(tmp_path / "archive.db")
    _one_line_naming(tweetchat(tmp_path, "search", "walk", TWEETCHAT_ARCHIVE=str(path)), path)


def test_an_extended_code_counts_as_its_primary_one() -> None:
    """SQLite's errors carry extended codes (SQLITE_CORRUPT_VTAB, SQLITE_BUSY_SNAPSHOT)."""
    error = sqlite3.DatabaseError("database disk image is malformed")
    error.sqlite_errorcode = sqlite3.SQLITE_CORRUPT_VTAB  # as SQLite sets it
    assert primary_code(error) == sqlite3.SQLITE_CORRUPT


def _import_args(tmp_path: Path, platform: str) -> list[str]:
    """`import PLATFORM FILE --script SCRIPT`, with a file of that platform's format."""
    script = write_script(tmp_path / "chats", chat_script(f"[{platform}]"))
    file = tmp_path / "export.jsonl"
    at = "2026-11-25T20:01:00.000Z"
    if platform == "discord":
        _discord_export(file)
    elif platform == "x":
        file.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in _host_lines()))
    elif platform == "mastodon":
        file.write_bytes(orjson.dumps([status("1002", "nhssm", "Q1 First? #TestChat", at)]))
    else:
        post = view("3kq1", HOST_DID, "nhssm.bsky.social", "Q1 First? #TestChat", at)
        file.write_bytes(orjson.dumps({"posts": [post]}))
    return ["import", platform, str(file), "--script", str(script)]


def _run_args(tmp_path: Path) -> list[str]:
    """`run`, with a chat in chats/ (the default folder, under the working directory)."""
    write_script(tmp_path / "chats")
    return ["run"]


# Every command that opens the archive (`tweetchat --help`, `tweetchat import --help`),
# with arguments that make it read or write past the opening.
COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "sessions": lambda _: ["sessions"],
    "transcript": lambda _: ["transcript", "1"],
    "search": lambda _: ["search", "hello"],
    "review": lambda _: ["review"],
    "review --decide": lambda _: ["review", "--decide", "1=hide"],
    "forget": lambda _: ["forget", "web:u1"],
    "certificate": lambda tmp: ["certificate", "1", "web:u1", "--out", str(tmp / "cpd")],
    "compact": lambda _: ["compact"],
    "run": _run_args,
    "start": lambda tmp: ["start", str(write_script(tmp / "chats")), "--now", "--platform",
                          "memory", "--pace", "3600"],
    **{f"import {name}": partial(_import_args, platform=name)
       for name in ("x", "discord", "mastodon", "bluesky")},
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_meeting_damaged_tables_says_so_in_one_line(
        tmp_path: Path, command: str) -> None:
    path = _data_damaged(tmp_path / "archive.db")
    Archive(path).close()  # it opens: only the tables' pages are damaged
    args = COMMANDS[command](tmp_path)
    # Port 0: `run` and `start` open the web room on any free port.
    result = tweetchat(tmp_path, *args, TWEETCHAT_ARCHIVE=str(path), TWEETCHAT_PORT="0")
    _one_line_naming(result, path)


def test_a_bug_in_sql_keeps_its_traceback_and_damage_does_not(tmp_path: Path) -> None:
    """Only SQLite telling of the file's state is the user's; a bad statement is a bug."""
    path = _data_damaged(tmp_path / "archive.db")
    archive = Archive(path)
    try:
        with pytest.raises(sqlite3.OperationalError) as bug:
            archive.db.execute("SELEC 1")
        with pytest.raises(sqlite3.DatabaseError) as damage:
            archive.db.execute("SELECT * FROM messages").fetchall()
    finally:
        archive.close()
    assert _user_error(bug.value) is None
    told = _user_error(damage.value)
    assert told is not None and str(path) in str(told) and "is damaged" in str(told)
