"""`tweetchat start` while `tweetchat run` is up: a session the running bot can take is
handed to it; one it cannot (--platform, a chat it does not host) is hosted by `start`,
whose web room then takes a free port instead of failing on the bot's."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import write_script
from tests.test_restart import env_for, free_port, wait_until


def test_start_with_a_platform_beside_a_running_bot_hosts_it_here(tmp_path: Path) -> None:
    script = write_script(tmp_path / "chats")
    port = free_port()
    # This checkout's `bot`, not whichever one the venv's editable install points at.
    env = env_for(tmp_path, port) | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent),
                                     "COLUMNS": "200"}
    tweetchat = [sys.executable, "-m", "bot"]
    bot = subprocess.Popen([*tweetchat, "run"], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/status", timeout=2).status == 200, what="the bot")
        started = subprocess.run(
            [*tweetchat, "start", str(script), "--now", "--pace", "600", "--platform", "memory"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "already in use" not in started.stderr
        assert f"a bot is running at http://127.0.0.1:{port} (with --platform)" in started.stdout
        room = started.stdout.split("web room http://127.0.0.1:")[1].split("/")[0]
        assert int(room) != port  # its own room, on another port
        assert "ended; transcript in" in started.stdout
        assert any((tmp_path / "transcripts" / "test").glob("*rehearsal*/transcript.json"))

        # A port of one's own is honoured as asked; one already taken says how to fix it.
        taken = subprocess.run(
            [*tweetchat, "start", str(script), "--now", "--pace", "600", "--platform", "memory",
             "--port", str(port)], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=120)
        assert taken.returncode == 2 and "Traceback" not in taken.stderr
        assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr and "--port" in taken.stderr
        # A platform without its keys says so (the bot's port no longer hides it).
        keyless = {k: v for k, v in env.items() if not k.startswith("X_")}
        no_keys = subprocess.run(
            [*tweetchat, "start", str(script), "--now", "--pace", "600", "--platform", "x"],
            env=keyless, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert no_keys.returncode == 2 and "Traceback" not in no_keys.stderr
        assert "X_API_KEY" in no_keys.stderr and "already in use" not in no_keys.stderr
        # The running bot was left alone throughout.
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status",
                                      timeout=5).status == 200
    finally:
        bot.terminate()
        out, _ = bot.communicate(timeout=30)
    assert bot.returncode == 0, out.decode()[-2000:]
