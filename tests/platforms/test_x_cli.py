"""`tweetchat x check` and `tweetchat import x` as a person runs them (real subprocesses)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bot.archive import Archive
from bot.testing.fake_x import FakeXServer
from tests.conftest import no_settings
from tests.importers.test_x_import import SCRIPT, chat_tweets, page_lines

KEYS = {
    "X_API_KEY": "ck-cli-secret",
    "X_API_SECRET": "cs-cli-secret",
    "X_ACCESS_TOKEN": "at-cli-secret",
    "X_ACCESS_TOKEN_SECRET": "ats-cli-secret",
    "X_BEARER_TOKEN": "bt-cli-secret",
}


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("X_")}
    # The checkout under test, not whichever copy of the package the venv points at.
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env.update({
        # The checkout under test, not whichever copy the venv installed.
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
        "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
        "COLUMNS": "200",
        **extra,
    })
    return env


async def run_async(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """The CLI in a child process while this loop keeps serving the fake API."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=environ(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=environ(tmp_path), cwd=tmp_path, timeout=60)


async def test_x_check_reports_the_account_and_search(tmp_path: Path) -> None:
    async with FakeXServer() as server:
        code, out, err = await run_async(tmp_path, "x", "check", "--hashtag", "#NHSSM",
                                         TWEETCHAT_X_API_BASE=server.base_url, **KEYS)
        assert code == 0, err
        assert "@tweetchat_host" in out and "yes - recent search works" in out
        server.search_forbidden = True
        code, out, err = await run_async(tmp_path, "x", "check",
                                         TWEETCHAT_X_API_BASE=server.base_url, **KEYS)
    assert code == 1
    assert "no -" in out and "tweetchat import x" in out
    assert "cli-secret" not in out + err


async def test_x_check_without_keys_is_one_line(tmp_path: Path) -> None:
    code, out, err = await run_async(tmp_path, "x", "check", X_API_KEY="only-this-one")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "X_API_SECRET" in lines[0] and "Traceback" not in err


def test_import_x_prints_a_summary_and_bad_lines(tmp_path: Path) -> None:
    tweets, users = chat_tweets()
    lines = page_lines(tweets, users) + [b"{broken", orjson.dumps({"what": 1})]
    (tmp_path / "chat.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "nhssm.yaml").write_text(SCRIPT.replace("{id}", "nhssm"))
    archive = Archive(tmp_path / "archive.db")
    for day in (1, 2):  # two sessions of another chat already: the import's is session 3
        archive.create_session(
            chat_id="other", title="T", hashtag="#T", timezone="Europe/London",
            scheduled_start=datetime(2026, 11, day, 20, 0, tzinfo=UTC), duration_minutes=5,
            platforms=["memory"], items=[])
    archive.close()
    done = run(tmp_path, "import", "x", "chat.jsonl", "--script", "nhssm.yaml")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "Lines read │ 5" in out and "Messages │ 8 (4 by the host)" in out
    # One session, whose id is 3: a count, then the ids, never "Sessions │ 3".
    assert "Bad lines │ 2 (lines 4, 5)" in out and "Sessions │ 1 (id 3)" in out
    again = run(tmp_path, "import", "x", "chat.jsonl", "--script", "nhssm.yaml")
    assert "New or changed │ 0" in " ".join(again.stdout.split())


def test_import_x_mistakes_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "nhssm.yaml").write_text(SCRIPT.replace("{id}", "nhssm"))
    missing = run(tmp_path, "import", "x", "nope.jsonl", "--script", "nhssm.yaml")
    assert missing.returncode == 2 and "nope.jsonl: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    (tmp_path / "a.jsonl").write_text("{}\n")
    bad_script = run(tmp_path, "import", "x", "a.jsonl", "--script", "missing.yaml")
    assert bad_script.returncode == 2 and "Traceback" not in bad_script.stderr


def test_import_x_refuses_a_file_of_users_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "nhssm.yaml").write_text(SCRIPT.replace("{id}", "nhssm"))
    users = {"data": [{"id": "9", "username": "jo", "name": "Jo", "protected": False,
                       "created_at": "2010-03-03T12:49:24.000Z"}] * 3,
             "__twarc": {"url": "https://api.twitter.com/2/users/by", "version": "2.14"}}
    (tmp_path / "users.jsonl").write_bytes(orjson.dumps(users) + b"\n")
    done = run(tmp_path, "import", "x", "users.jsonl", "--script", "nhssm.yaml",
               "--host", "jo_cohost")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line = " ".join(done.stderr.split())
    assert "users.jsonl: line 1 holds user profiles" in line and "not tweets" in line


async def test_x_check_shows_the_access_level_and_a_chats_cost(tmp_path: Path) -> None:
    (tmp_path / "nhssm.yaml").write_text(SCRIPT.replace("{id}", "nhssm"))
    async with FakeXServer() as server:
        code, out, err = await run_async(tmp_path, "x", "check", "--chat", "nhssm.yaml",
                                         "--replies", "100",
                                         TWEETCHAT_X_API_BASE=server.base_url, **KEYS)
        assert code == 0, err
        flat = " ".join(out.replace("│", " ").split())  # the table's cells, in order
        assert "Access level read-write" in flat
        assert "One session of" in flat and "Reading $0.50 for 100 replies" in flat
        server.access_level = "read"
        code, out, err = await run_async(tmp_path, "x", "check",
                                         TWEETCHAT_X_API_BASE=server.base_url, **KEYS)
    assert code == 2 and "read-only" in err and "Traceback" not in err


async def test_x_check_prints_the_accounts_name_as_written(tmp_path: Path) -> None:
    """A display name from X holding markup and terminal controls: shown, never obeyed."""
    async with FakeXServer() as server:
        server.me.name = "Jo [red]Host[/red] \x1b]0;owned\x07\x1b[2J"
        code, out, err = await run_async(tmp_path, "x", "check", "--hashtag", "#NHSSM",
                                         TWEETCHAT_X_API_BASE=server.base_url, **KEYS)
    assert code == 0, err
    assert "Jo [red]Host[/red]" in out
    assert "\x1b" not in out and "\x07" not in out
