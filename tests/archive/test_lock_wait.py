"""A command waiting for the archive's write lock says so, and may be stopped or give up.

Another connection (the running bot, an import, another command) holding the write lock
makes a write wait up to the busy timeout (30 s). Silent, that looks like a hang: after
NOTICE_MS the command prints one line naming the file, then keeps waiting in slices so
that Ctrl-C stops it at once; past the timeout it is one line, exit status 2.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.archive import store as store_module
from bot.moderation import forget
from tests.archive.test_damage_commands import _flagged_session
from tests.conftest import no_settings
from tests.test_cli import ROOT

WAITING = "waiting for {path}: another process is writing to it"


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """An archive with one participant to forget, and a second connection holding its
    write lock (as the bot holds it while it writes), released when the test ends."""
    path = tmp_path / "archive.db"
    _flagged_session(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield path, holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def _forget(tmp_path: Path, path: Path, *, busy_ms: int | None = None) -> subprocess.Popen[str]:
    """`tweetchat forget web:u1` on `path`, its stderr a pipe; `busy_ms` shortens the wait."""
    patch = ("" if busy_ms is None else
             f"import bot.archive.store as s; s.BUSY_TIMEOUT_MS = {busy_ms}; "
             f"s.NOTICE_MS = {busy_ms // 4}\n")
    code = (f"{patch}import sys\nfrom bot.cli import main\n"
            "sys.argv = ['tweetchat', *sys.argv[1:]]\nmain()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TWEETCHAT_ARCHIVE": str(path),
           "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
           "TWEETCHAT_CONFIG": str(no_settings(tmp_path)), "COLUMNS": "400"}
    return subprocess.Popen([sys.executable, "-c", code, "forget", "web:u1"], cwd=tmp_path,
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_forget_says_it_waits_and_goes_on_once_the_lock_is_free(
        tmp_path: Path, locked: tuple[Path, sqlite3.Connection]) -> None:
    path, holder = locked
    proc = _forget(tmp_path, path)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # written while the lock is still held
    assert first.startswith(WAITING.format(path=path)), first
    assert "Ctrl-C to stop now" in first
    holder.execute("COMMIT")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.startswith("anonymise: 1 messages in 1 sessions"), out
    assert "Traceback" not in err


def test_forget_stopped_with_ctrl_c_while_waiting_exits_130_untouched(
        tmp_path: Path, locked: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = locked
    proc = _forget(tmp_path, path)
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith(WAITING.format(path=path))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)  # before the 30 s are up: SIGINT is handled
    assert proc.returncode == 130 and "Traceback" not in err
    archive = Archive(path)
    try:
        assert archive.db.execute("SELECT count(*) FROM messages WHERE author_id = 'u1'"
                                  ).fetchone() == (1,)  # nothing erased
    finally:
        archive.close()


def test_forget_giving_up_is_one_line_after_the_notice(
        tmp_path: Path, locked: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = locked
    proc = _forget(tmp_path, path, busy_ms=400)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, err
    assert lines[0].startswith(WAITING.format(path=path))
    assert lines[1].startswith(f"error: {path} is in use: another tweetchat command")


def test_the_wait_is_told_once_in_the_log(locked: tuple[Path, sqlite3.Connection],
                                          monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """The running bot logs it too (its own write waiting for a command's)."""
    path, _ = locked
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 600)
    monkeypatch.setattr(store_module, "NOTICE_MS", 100)
    archive = Archive(path)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.archive.store"), \
                pytest.raises(sqlite3.OperationalError, match="database is locked"):
            forget(archive, "web", "u1", "cli", datetime.now(UTC))
        assert archive.db.execute("PRAGMA busy_timeout").fetchone() == (600,)  # restored
    finally:
        archive.close()
    waits = [r for r in caplog.records if r.getMessage().startswith(WAITING.format(path=path))]
    assert len(waits) == 1 and waits[0].levelno == logging.WARNING
