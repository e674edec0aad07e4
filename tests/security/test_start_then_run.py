"""Finding 8 of issue 12: `tweetchat start --now` SIGKILLed, then recovered by `tweetchat run`.

`test_sigkill_resume.py` runs the same `start --now` again after each kill; here the
interrupted session is picked up by the long-running `tweetchat run` instead (the command
an operator leaves running), on the same platform (the web room): it resumes the session
where it stopped, every item goes out exactly once and the session ends.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import chat_script, no_settings, write_script

ROOT = Path(__file__).resolve().parent.parent.parent


def read(archive: Path, sql: str) -> list[tuple]:
    if not archive.exists():
        return []
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        db.close()


def wait_for(check: Callable[[], bool], what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"the bot exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_start_now_killed_then_tweetchat_run_resumes_it(tmp_path: Path) -> None:
    write_script(tmp_path / "chats", chat_script("[web]"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODERATOR_TOKEN": "t0ken-for-this-test",
           "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
           "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
           "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
           "TWEETCHAT_CHATS_DIR": str(tmp_path / "chats"), "TWEETCHAT_PORT": str(port)}
    archive = tmp_path / "archive.db"
    posted = "select text from messages where is_host order by created"
    start = subprocess.Popen([sys.executable, "-m", "bot", "start", "chats/test.yaml", "--now",
                              "--pace", "20"], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(t.startswith("Q1 ") for (t,) in read(archive, posted)),
                 "Q1", start)
    finally:
        start.send_signal(signal.SIGKILL)
        start.wait()
    assert read(archive, "select status from sessions") == [("live",)]
    run = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: read(archive, "select status from sessions") == [("ended",)],
                 "the resumed session to end", run)
    finally:
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err[-2000:]
    texts = [t for (t,) in read(archive, posted)]
    assert [t.split()[0] for t in texts] == ["Welcome", "Q1", "Q2", "Q3", "Thanks"]
    items = read(archive, "select key, status from items order by position")
    assert [status for _, status in items] == ["sent"] * 5, items
    log = [kind for (kind,) in read(archive, "select kind from session_log order by id")]
    assert "resumed" in log and "post_failed" not in log
