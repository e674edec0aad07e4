"""A session that ended but was never published (SIGKILL before the render, or a render
that failed) is published on the next start, once: transcript files written, shared once."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.archive import Archive
from bot.clock import FakeClock
from bot.script import load_script
from tests.conftest import SMALL_SCRIPT, make_settings, write_script
from tests.test_restart import TOKEN, env_for, free_port, query, wait_until

ROOT = Path(__file__).resolve().parent.parent


def start_session(port: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/sessions", data=json.dumps(
            {"chat": "test", "pace": 60}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def log_kinds(db: Path) -> list[str]:
    return [r[0] for r in query(db, "select kind from session_log where session_id = 1 "
                                    "order by id")]


def test_sigkill_after_the_close_then_restart_publishes_the_transcript(tmp_path: Path) -> None:
    write_script(tmp_path / "chats", SMALL_SCRIPT.replace("platforms: [memory]",
                                                          "platforms: [web]"))
    port = free_port()
    env = {**env_for(tmp_path, port), "PYTHONPATH": str(ROOT)}  # this checkout's bot
    db = tmp_path / "archive.db"
    run = [sys.executable, "-m", "bot", "run"]
    # A file where the chat's transcript folder goes: every render fails, so the bot is
    # held between "ended" and "shared" for as long as the test needs, then SIGKILLed.
    blocker = tmp_path / "transcripts" / "test"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    first = subprocess.Popen(run, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/status", timeout=2).status == 200, what="start")
        start_session(port)
        wait_until(lambda: "ended" in log_kinds(db), what="the session's close")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert query(db, "select status from sessions") == [("ended",)]
    assert "shared" not in log_kinds(db)

    blocker.unlink()
    for restart in range(2):  # the second start finds nothing left to publish
        output = tmp_path / f"restart-{restart}.out"
        with output.open("wb") as sink:
            again = subprocess.Popen(run, env=env, cwd=tmp_path, stdout=sink,
                                     stderr=subprocess.STDOUT)
        try:
            wait_until(lambda out=output: b"tweetchat is running" in out.read_bytes(),
                       what="the bot to be running")
            wait_until(lambda: "shared" in log_kinds(db), what="the transcript shared")
            wait_until(lambda: any(blocker.glob("*-rehearsal-1/transcript.json")),
                       what="the transcript files")
        finally:
            again.send_signal(signal.SIGTERM)
            again.wait(60)
        assert again.returncode == 0, output.read_text()[-2000:]
        assert log_kinds(db).count("shared") == 1, (restart, log_kinds(db))
    transcript = json.loads(next(blocker.glob("*/transcript.json")).read_text())
    assert transcript["session"]["id"] == 1


async def test_publishing_on_start_is_once_and_only_for_the_bots_own_sessions(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    script = load_script(write_script(tmp_path / "chats"))
    archive = Archive(settings.archive.path)
    ended = datetime(2026, 11, 25, 20, 5, tzinfo=UTC)
    ids = []
    for day in (25, 18):  # one the bot hosted (an "ended" line), one imported (none)
        start = datetime(2026, 11, day, 20, 0, tzinfo=UTC)
        sid = archive.create_session(
            chat_id="test", title="Test chat", hashtag="#TestChat", timezone="Europe/London",
            scheduled_start=start, duration_minutes=5, platforms=["memory"],
            items=script.timeline())
        archive.update_session(sid, status="ended", started_at=start, origin=start,
                               ended_at=start + timedelta(minutes=5))
        ids.append(sid)
    archive.log_session(ids[0], "ended", "closing post sent", ended)
    archive.close()
    app = App(settings, scripts=[script], platform_override=["memory"], with_web=False,
              clock=FakeClock(ended + timedelta(hours=2)))
    await app.start()
    try:
        for _ in range(500):
            if any(e["kind"] == "shared" for e in app.archive.session_log(ids[0])):
                break
            await asyncio.sleep(0.01)
        kinds = [[e["kind"] for e in app.archive.session_log(sid)] for sid in ids]
        assert kinds == [["ended", "shared"], []]
        assert (tmp_path / "transcripts" / "test" / "2026-11-25" / "transcript.json").exists()
        assert not (tmp_path / "transcripts" / "test" / "2026-11-18").exists()
        assert await app.publish_unshared() == 0
    finally:
        await app.stop()
