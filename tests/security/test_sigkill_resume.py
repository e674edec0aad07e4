"""Finding 8 (in part) of issue 12: the same `tweetchat start --now` after a SIGKILL
resumes the interrupted session instead of refusing with "already has a live session".

The test loses power the way a user does: `tweetchat start` on the memory platform is
SIGKILLed at random moments, again and again during one paced session, and started again
with the very same command each time. Afterwards the archive holds one session with every
item sent and exactly one host post per item: 0 duplicates, 0 skipped, 0 lost.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import no_settings, write_script

ROOT = Path(__file__).resolve().parent.parent.parent
KILLS = 20


def command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
           "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"), "TWEETCHAT_PORT": "0",
           "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"), "MODERATOR_TOKEN": "t0ken"}
    args = [sys.executable, "-m", "bot", "start", "chats/test.yaml", "--now",
            "--platform", "memory", "--pace", "5"]
    return args, env


def session_exists(archive: Path) -> bool:
    if not archive.exists():
        return False
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True, timeout=5)
    try:
        return bool(db.execute("select count(*) from sessions").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return False
    finally:
        db.close()


def host_posts(archive: Path) -> list[str]:
    if not archive.exists():
        return []
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True, timeout=5)
    try:
        return [r[0] for r in db.execute("select text from messages where is_host order by rowid")]
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        db.close()


def test_start_now_resumes_after_sigkill_without_duplicates_or_gaps(tmp_path: Path) -> None:
    write_script(tmp_path / "chats")
    args, env = command(tmp_path)
    rng = random.Random(8)
    archive = tmp_path / "archive.db"
    kills = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # A random point after the session exists (start-up alone takes a second or two).
        deadline = time.monotonic() + 60
        while not session_exists(archive) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is not None:  # it finished the session before the kill came
            out, err = proc.communicate()
            assert proc.returncode == 0, out + err
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    final = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "already has a live session" not in final.stderr
    assert kills >= KILLS // 2  # most kills landed mid-session

    db = sqlite3.connect(tmp_path / "archive.db")
    sessions = db.execute("select id, status from sessions").fetchall()
    items = db.execute("select key, status from items order by due_offset").fetchall()
    db.close()
    assert len(sessions) == 1 and sessions[0][1] == "ended", sessions
    expected = ["welcome", "q1", "q2", "q3", "close"]
    assert [key for key, _ in items][:5] == expected
    assert len(items) == 5
    assert all(status == "sent" for _, status in items), items  # 0 skipped
    posts = host_posts(tmp_path / "archive.db")
    for prefix in ("Welcome", "Q1 ", "Q2 ", "Q3 ", "Thanks"):
        count = sum(1 for p in posts if p.startswith(prefix))
        assert count == 1, (prefix, count, posts)  # 0 duplicates, 0 lost
