"""Kill the bot with SIGKILL mid-session, start it again: no item is posted twice or
skipped, and no stored message is lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import SMALL_SCRIPT, no_settings, write_script

TOKEN = "restart-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(tmp_path: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
        "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "TWEETCHAT_CHATS_DIR": str(tmp_path / "chats"),
        "TWEETCHAT_PORT": str(port),
        "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
        "MODERATOR_TOKEN": TOKEN,
    })
    return env


def query(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def wait_until(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (sqlite3.OperationalError, OSError):
            pass  # the file or server is not there yet
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def say(port: int, name: str, text: str) -> str:
    body = json.dumps({"name": name, "text": text, "key": f"restart-test-key-{name}-0000"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/chats/test/messages", data=body,
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["id"]


def posted(db: Path) -> list[str]:
    return [r[0] for r in query(db, "select text from messages where is_host = 1 "
                                    "order by created")]


def test_sigkill_mid_session_then_restart(tmp_path: Path) -> None:
    script = write_script(tmp_path / "chats",
                          SMALL_SCRIPT.replace("platforms: [memory]", "platforms: [web]"))
    port = free_port()
    env = env_for(tmp_path, port)
    db = tmp_path / "archive.db"
    tweetchat = [sys.executable, "-m", "bot"]

    first = subprocess.Popen([*tweetchat, "start", str(script), "--now", "--pace", "20"],
                             env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: any(t.startswith("Q1 ") for t in posted(db)), what="Q1")
        said = [say(port, f"P{i}", f"A1 answer {i} #TestChat") for i in range(5)]
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    before = posted(db)
    assert before[0].startswith("Welcome") and before[-1].startswith("Q1 ")
    assert query(db, "select status from sessions") == [("live",)]

    second = subprocess.Popen([*tweetchat, "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/status", timeout=2).status == 200, what="restart")
        later = say(port, "P9", "A2 after the restart #TestChat")
        wait_until(lambda: query(db, "select status from sessions") == [("ended",)],
                   what="the resumed session to end")
        wait_until(lambda: any((tmp_path / "transcripts" / "test").glob("*/transcript.html")),
                   what="the transcript")
    finally:
        second.send_signal(signal.SIGTERM)
        out, _ = second.communicate(timeout=30)
    assert second.returncode == 0, out.decode()[-2000:]

    texts = posted(db)
    keys = [t.split()[0] for t in texts]
    # Every item exactly once, in order: nothing twice, nothing skipped.
    assert keys == ["Welcome", "Q1", "Q2", "Q3", "Thanks"], texts
    statuses = query(db, "select key, status from items order by position")
    assert all(status == "sent" for _, status in statuses), statuses
    outbox = query(db, "select item_key, status from posts")
    assert all(status == "sent" for _, status in outbox), outbox
    # Every message stored before the kill survived it; the later one was stored too.
    stored = {r[0] for r in query(db, "select id from messages where is_host = 0")}
    assert set(said) | {later} <= stored
    log = [r[0] for r in query(db, "select kind from session_log order by id")]
    assert "resumed" in log
    assert b"stopped." in out
