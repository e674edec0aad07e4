"""`tweetchat compact`: an archive rewritten with the current page size loses nothing.

Real SQLite files throughout: an archive made with 4 KiB pages (as before 16 KiB pages),
compacted by the function and by the command in its own process; one in use is refused
untouched; one killed part way through the rewrite is as it was, and compacts next time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.archive import Archive, search
from bot.archive import compact as compact_module
from bot.archive.compact import CompactError, compact
from bot.archive.store import PAGE_SIZE
from bot.testing.crowd import archived_session
from tests.web.conftest import make_script

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def _old_archive(tmp_path: Path, messages: int) -> Path:
    """An archive with 4 KiB pages (made before PAGE_SIZE), a session of `messages` in it."""
    path = tmp_path / "archive.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("pragma user_version = 1")  # the file exists: its page size is fixed
    archive = Archive(path)
    try:
        archived_session(archive, make_script(tmp_path), messages, start=START)
        # Emptied pages, as an erasure or a removed session leaves them.
        archive.db.execute("delete from messages where rowid % 5 = 0")
    finally:
        archive.close()
    return path


def _contents(path: Path) -> dict[str, Any]:
    """Every message row with its rowid, the payloads, and what a search finds."""
    archive = Archive(path)
    try:
        conn = archive.db.conn
        return {
            "messages": conn.execute("select rowid, * from messages order by rowid").fetchall(),
            "raw": conn.execute("select * from message_raw order by platform, id").fetchall(),
            "sessions": conn.execute("select * from sessions").fetchall(),
            "search": [(h.message_id, h.snippet) for h in search(archive, "answer", limit=1000)],
        }
    finally:
        archive.close()


def _pragma(path: Path, name: str) -> Any:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"pragma {name}").fetchone()[0]


def _fts_consistent(path: Path) -> None:
    """The full-text index agrees with the messages it indexes (raises if not)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("insert into messages_fts(messages_fts, rank) values ('integrity-check', 1)")


def _segments(path: Path) -> int:
    """How many segments the full-text index is in (each search reads every one)."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("select count(distinct segid) from messages_fts_idx").fetchone()[0]


def test_an_old_archive_gets_the_new_page_size_and_keeps_everything(tmp_path: Path) -> None:
    path = _old_archive(tmp_path, 600)
    with closing(sqlite3.connect(path)) as conn:  # the index grown by many commits
        for n in range(5):
            conn.execute("update messages set public_text = public_text || ' extra' "
                         "where rowid = ?", [n + 1])
            conn.commit()
    before = _contents(path)
    assert _pragma(path, "page_size") == 4096 and before["search"]
    assert _segments(path) > 1
    steps: list[str] = []
    done = compact(path, step=steps.append)
    assert (done.page_size_before, done.page_size_after) == (4096, PAGE_SIZE)
    assert _pragma(path, "page_size") == PAGE_SIZE
    assert _pragma(path, "journal_mode") == "wal"
    assert _pragma(path, "freelist_count") == 0  # the emptied pages went back to the disk
    assert not done.index_rebuilt  # SQLite kept the rowids, as it does
    assert _contents(path) == before
    _fts_consistent(path)
    assert _segments(path) == 1  # merged: one segment for every search to read
    assert any("16 KiB" in s for s in steps)
    again = compact(path)  # harmless when there is nothing to change
    assert again.page_size_before == again.page_size_after == PAGE_SIZE
    assert _contents(path) == before


def test_the_search_index_is_rebuilt_if_the_rowids_moved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite only promises to keep rowids of an INTEGER PRIMARY KEY: if ever they move."""
    path = _old_archive(tmp_path, 200)
    before = _contents(path)
    prints = iter([b"before", b"after"])
    monkeypatch.setattr(compact_module, "_rowid_print", lambda conn: next(prints))
    # What a moved rowid does to the index: it points at the wrong rows. Made so here.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("insert into messages_fts(messages_fts) values ('delete-all')")
        conn.commit()
    assert compact(path).index_rebuilt
    assert _contents(path) == before
    _fts_consistent(path)


def test_an_index_left_on_moved_rowids_is_rebuilt(tmp_path: Path) -> None:
    """A run killed after VACUUM moved rowids, before the rebuild: the next run rebuilds."""
    path = _old_archive(tmp_path, 200)
    before = _contents(path)
    with closing(sqlite3.connect(path)) as conn:  # as if the rowids had moved by one
        conn.execute("insert into messages_fts(messages_fts) values ('delete-all')")
        conn.execute("insert into messages_fts (rowid, public_text, author_name, "
                     "author_handle) select rowid + 1, public_text, author_name, "
                     "author_handle from messages")
        conn.commit()
    assert compact(path).index_rebuilt
    assert _contents(path) == before
    _fts_consistent(path)


def test_an_archive_in_use_is_refused_unchanged(tmp_path: Path) -> None:
    path = _old_archive(tmp_path, 100)
    size = path.stat().st_size
    running = Archive(path)  # the bot, or another command
    try:
        with pytest.raises(CompactError, match="in use"):
            compact(path)
    finally:
        running.close()
    assert _pragma(path, "page_size") == 4096 and path.stat().st_size == size
    compact(path)  # once it stopped
    assert _pragma(path, "page_size") == PAGE_SIZE


def _other_database(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table t (a)")


@pytest.mark.parametrize("make, says", [
    (lambda p: None, "no archive at"),
    (lambda p: p.write_text("not a database at all " * 100), "not a SQLite database"),
    (_other_database, "not a tweetchat archive"),
])
def test_a_wrong_file_is_one_line_saying_so(tmp_path: Path, make: Any, says: str) -> None:
    path = tmp_path / "archive.db"
    make(path)
    with pytest.raises(CompactError, match=says):
        compact(path)


def test_too_little_disk_space_is_refused_before_starting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _old_archive(tmp_path, 50)
    monkeypatch.setattr(compact_module.shutil, "disk_usage",
                        lambda folder: SimpleNamespace(total=1 << 20, used=1 << 20, free=4096))
    with pytest.raises(CompactError, match="not enough free disk space"):
        compact(path)
    assert _pragma(path, "page_size") == 4096


def _cli(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "compact", "--config", str(config)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "100"})


def _config(tmp_path: Path, path: Path) -> Path:
    config = tmp_path / "settings.toml"
    config.write_text(f'[archive]\npath = "{path}"\ntranscripts_dir = "{tmp_path / "t"}"\n')
    return config


def test_the_command_prints_before_and_after(tmp_path: Path) -> None:
    path = _old_archive(tmp_path, 100)
    result = _cli(_config(tmp_path, path))
    assert result.returncode == 0, result.stderr
    assert "4,096 B" in result.stdout and f"{PAGE_SIZE:,} B" in result.stdout
    assert _pragma(path, "page_size") == PAGE_SIZE


def test_the_command_refuses_an_archive_in_use_in_one_line(tmp_path: Path) -> None:
    path = _old_archive(tmp_path, 100)
    running = Archive(path)
    try:
        result = _cli(_config(tmp_path, path))
    finally:
        running.close()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "in use" in lines[0] and "stop it" in lines[0]


@pytest.fixture(scope="module")
def big_old_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An old archive of 8,000 messages, made once: each test compacts its own copy."""
    return _old_archive(tmp_path_factory.mktemp("big"), 8000)


def _compact_until(path: Path, calls: int, write_fd: int, go_on_fd: int | None = None) -> None:
    """In a forked child: compact, held at VACUUM's `calls`-th progress call.

    SQLite calls a progress handler every 100 virtual machine steps; blocking in it holds
    the rewrite exactly there, part done. The child says b"h" when held (then waits for a
    byte on `go_on_fd`, or for its kill), b"d" if it finished before.
    """
    real_vacuum_step = compact_module._compact

    def held(conn: sqlite3.Connection, *args: Any) -> Any:
        seen = [0]

        def progress() -> int:
            seen[0] += 1
            if seen[0] == calls:
                os.write(write_fd, b"h")
                if go_on_fd is None:
                    time.sleep(120)
                else:
                    os.read(go_on_fd, 1)
            return 0
        conn.set_progress_handler(progress, 100)
        return real_vacuum_step(conn, *args)
    compact_module._compact = held  # type: ignore[assignment]
    status = 1
    try:
        compact(path)
        os.write(write_fd, b"d")
        status = 0
    finally:
        os._exit(status)


def _fork_compact(path: Path, calls: int, go_on: bool = False) -> tuple[int, int, int | None]:
    """A child compacting `path`, held at `calls` (see _compact_until): pid, its pipes."""
    read, write = os.pipe()
    go_read, go_write = os.pipe() if go_on else (None, None)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        _compact_until(path, calls, write, go_read)
    os.close(write)
    if go_read is not None:
        os.close(go_read)
    return pid, read, go_write


# Compacting this archive makes about 4,100 progress calls: the rowids read (to ~320),
# the index merged (to ~345), VACUUM (to ~3,500), the rowids and index checked. Held at
# the first, in the merge, and at three points of the rewrite.
@pytest.mark.parametrize("calls", [1, 330, 1000, 2000, 3000])
def test_killed_while_rewriting_the_archive_is_as_it_was(
        big_old_archive: Path, tmp_path: Path, calls: int) -> None:
    """SIGKILL inside the rewrite: SQLite's journal puts the file back; compacting again works."""
    path = tmp_path / "archive.db"
    path.write_bytes(big_old_archive.read_bytes())
    before = _contents(path)
    pid, read, _ = _fork_compact(path, calls)
    try:
        assert os.read(read, 1) == b"h"  # held inside the compaction, not finished
        os.kill(pid, signal.SIGKILL)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert _contents(path) == before
    _fts_consistent(path)
    compact(path)
    assert _pragma(path, "page_size") == PAGE_SIZE
    assert _contents(path) == before


def test_a_bot_starting_meanwhile_waits_for_the_rewrite(
        big_old_archive: Path, tmp_path: Path) -> None:
    """Once compacting, the file is held: an opener cannot switch it back to WAL half way."""
    path = tmp_path / "archive.db"
    path.write_bytes(big_old_archive.read_bytes())
    before = _contents(path)
    pid, read, go_on = _fork_compact(path, 2000, go_on=True)
    assert go_on is not None
    try:
        assert os.read(read, 1) == b"h"
        with closing(sqlite3.connect(path, timeout=0.2)) as starting:  # as store._connect
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                starting.execute("pragma journal_mode=wal")
        os.write(go_on, b"g")
        assert os.read(read, 1) == b"d"
    finally:
        os.close(read)
        os.close(go_on)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _pragma(path, "page_size") == PAGE_SIZE and _pragma(path, "journal_mode") == "wal"
    assert _contents(path) == before


def test_a_reader_holding_the_file_is_one_error_and_nothing_lost(tmp_path: Path) -> None:
    """A backup job reading when the rewrite needs the file: refused, the archive intact."""
    path = _old_archive(tmp_path, 300)
    before = _contents(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("pragma journal_mode=delete")  # as a file left by a killed compact
        reader.execute("begin")
        reader.execute("select count(*) from messages").fetchone()  # holds a read lock
        with pytest.raises(CompactError, match="in use"):
            compact(path)
        reader.execute("commit")
    assert _contents(path) == before
    compact(path)
    assert _pragma(path, "page_size") == PAGE_SIZE


def test_killed_at_any_moment_of_the_rewrite_loses_nothing(
        big_old_archive: Path, tmp_path: Path) -> None:
    """Kills spread in time over a compaction's length (where each lands is the clock's).

    The held kills above cannot reach VACUUM's last step, the copy back into the file
    (it makes no progress calls); these may. Each outcome must keep every message.
    """
    timed = tmp_path / "timed.db"
    timed.write_bytes(big_old_archive.read_bytes())
    started = time.perf_counter()
    compact(timed)
    length = time.perf_counter() - started
    for fraction in (0.3, 0.6, 0.8, 0.9, 0.95, 1.0):
        path = tmp_path / f"killed-{fraction}.db"
        path.write_bytes(big_old_archive.read_bytes())
        before = _contents(path)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                compact(path)
            finally:
                os._exit(0)
        time.sleep(length * fraction)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert _contents(path) == before, fraction
        _fts_consistent(path)


def test_the_command_says_a_wrong_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    _other_database(path)
    result = _cli(_config(tmp_path, path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a tweetchat archive" in lines[0]


def test_a_damaged_archive_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    path = _old_archive(tmp_path, 300)
    with closing(sqlite3.connect(path)) as conn:
        root = conn.execute("select rootpage from sqlite_master where name = 'messages'"
                            ).fetchone()[0]
    data = bytearray(path.read_bytes())
    start = (root - 1) * 4096  # the messages table's first page: garbage in its header
    data[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(CompactError, match="damaged"):
        compact(path)


def test_an_unwritable_archive_is_one_error(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as another user than the bot's (the tests run as root, who may write anything)."""
    path = _old_archive(tmp_path, 50)
    monkeypatch.setattr(compact_module.os, "access", lambda p, mode: Path(p) != path)
    with pytest.raises(CompactError, match="cannot write"):
        compact(path)
    assert _pragma(path, "page_size") == 4096
