"""`tweetchat transcript` ends its process as soon as it is done, losing nothing.

Run as a user runs it (the real entry point, in a process of its own) with an atexit hook
that says whether Python's own teardown ran: the transcript command skips it, with every
file written whole and every line printed; other commands end as before. In-process (a
test's CliRunner, the bot's publisher thread) nothing is kept and nothing ends.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import quick_exit
from bot.archive import Archive
from bot.publishing import Publisher
from bot.testing.crowd import archived_session
from tests.conftest import no_settings
from tests.web.conftest import make_script

ROOT = Path(__file__).resolve().parent.parent
TEARDOWN = "python's teardown ran"


def tweetchat(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`tweetchat ARGS` through bot.cli.main, with a hook that prints at Python's teardown."""
    code = ("import atexit, sys\n"
            f"atexit.register(print, {TEARDOWN!r})\n"
            "from bot.cli import main\n"
            "sys.argv = ['tweetchat', *sys.argv[1:]]\n"
            "main()\n")
    env = {**os.environ,
           "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
           "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
           "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
           "COLUMNS": "1000",  # one path a line
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


@pytest.fixture
def session(tmp_path: Path) -> int:
    archive = Archive(tmp_path / "archive.db")
    try:
        return archived_session(archive, make_script(tmp_path), 400,
                                start=datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
    finally:
        archive.close()


def test_the_transcript_command_ends_at_once_with_every_file_whole(
        tmp_path: Path, session: int) -> None:
    out = tmp_path / "cli"
    done = tweetchat(tmp_path, "transcript", str(session), "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert TEARDOWN not in done.stdout  # ended before Python tore anything down
    published = Publisher(tmp_path / "archive.db", tmp_path / "transcripts").publish_now(
        session, out_dir=tmp_path / "here")
    names = sorted(p.name for p in published.files)
    assert names == sorted(p.name for p in out.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
    # Every path it printed reached the pipe (the streams are flushed before the end).
    assert [Path(line).name for line in done.stdout.splitlines()] == [
        p.name for p in published.files]
    assert not list(out.glob("*.tmp*"))


def test_other_commands_end_as_before(tmp_path: Path, session: int) -> None:
    """The hook does print when Python tears down: the check above can fail."""
    done = tweetchat(tmp_path, "sessions")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.rstrip().endswith(TEARDOWN)


@pytest.fixture
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """quick_exit's state as a new process has it; os._exit recorded instead of run."""
    for name in ("_entry", "_armed", "_kept"):
        monkeypatch.setattr(quick_exit, name, [])
    exits: list[int] = []

    def recorded_exit(status: int) -> None:
        exits.append(status)

    monkeypatch.setattr(quick_exit.os, "_exit", recorded_exit)
    yield exits
    gc.unfreeze()  # keep_until_exit froze this test process's objects


def test_nothing_is_kept_or_ended_without_the_process_entry(fresh_state: list[int]) -> None:
    """A CliRunner run never goes through bot.cli.main: the command's request is ignored."""
    quick_exit.end_at_once()
    quick_exit.keep_until_exit(object())
    assert not quick_exit.ending_at_once()
    assert quick_exit._kept == []
    quick_exit.finish(0)
    assert fresh_state == []


def test_another_thread_neither_asks_nor_keeps(fresh_state: list[int]) -> None:
    """The bot's publisher thread publishes beside the entry's thread: it keeps nothing."""
    quick_exit.process_entry()

    def publisher_thread() -> None:
        quick_exit.end_at_once()
        quick_exit.keep_until_exit(object())

    worker = threading.Thread(target=publisher_thread)
    worker.start()
    worker.join()
    assert not quick_exit.ending_at_once()
    quick_exit.end_at_once()  # the entry's own thread may ask
    worker = threading.Thread(target=lambda: quick_exit.keep_until_exit(object()))
    worker.start()
    worker.join()
    assert quick_exit._kept == []


def test_the_entry_keeps_what_it_built_then_ends_with_its_status(
        fresh_state: list[int]) -> None:
    quick_exit.process_entry()
    quick_exit.end_at_once()
    model = {"built": [1, 2, 3]}
    quick_exit.keep_until_exit(model)
    assert quick_exit.ending_at_once() and quick_exit._kept == [model]
    assert gc.get_freeze_count() > 0  # never walked by a collection again
    quick_exit.finish(3)
    assert fresh_state == [3]
