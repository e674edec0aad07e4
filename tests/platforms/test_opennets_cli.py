"""`tweetchat bluesky check`, `tweetchat mastodon check` and the two importers as a person
runs them: real child processes against the fakes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import orjson

import bot
from bot.testing.fake_bluesky import FakeBlueskyServer
from bot.testing.fake_mastodon import FakeMastodonServer, render_html
from tests.conftest import chat_script, no_settings, write_script

SECRETS = ("BLUESKY_", "MASTODON_", "X_")


async def run(tmp_path: Path, *args: str, **extra: str) -> tuple[int, str, str]:
    """The CLI in a child process (this checkout's code) while this loop serves the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRETS)}
    env.update({"TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
                "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
                "TWEETCHAT_CONFIG": str(no_settings(tmp_path)), "COLUMNS": "200",
                "PYTHONPATH": str(Path(bot.__file__).resolve().parent.parent), **extra})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_bluesky_check_reports_the_account_and_refuses_a_bad_password(
        tmp_path: Path) -> None:
    async with FakeBlueskyServer() as server:
        env = {"BLUESKY_HANDLE": server.me.handle, "TWEETCHAT_BLUESKY_SERVICE": server.base_url}
        code, out, err = await run(tmp_path, "bluesky", "check", "--hashtag", "#NHSSM",
                                   BLUESKY_APP_PASSWORD=server.password, **env)
        assert code == 0, err
        assert f"@{server.me.handle}" in out and "searchPosts answers for #NHSSM" in out
        assert "crisis signposts go by DM" in out
        assert server.password not in out + err
        server.dm_access = False  # an app password made without direct-message access
        code, out, err = await run(tmp_path, "bluesky", "check",
                                   BLUESKY_APP_PASSWORD=server.password, **env)
        assert code == 0 and "Bad token scope" in out and "moderators only" in out
        code, out, err = await run(tmp_path, "bluesky", "check",
                                   BLUESKY_APP_PASSWORD="wrong-secret", **env)
        assert code == 2 and "BLUESKY_APP_PASSWORD" in out + err
        assert "Traceback" not in out + err and "wrong-secret" not in out + err


async def test_mastodon_check_reports_the_instance_limits(tmp_path: Path) -> None:
    async with FakeMastodonServer(max_characters=1000, url_weight=20) as server:
        env = {"MASTODON_API_BASE_URL": server.base_url}
        code, out, err = await run(tmp_path, "mastodon", "check",
                                   MASTODON_ACCESS_TOKEN=server.token, **env)
        assert code == 0, err
        assert "@tweetchat" in out and "1000 characters, URLs count 20" in out
        assert "#mastodon streams live" in out and server.stream.connections == 1
        server.stream.refuse = True  # an instance that keeps its streams to itself
        code, out, err = await run(tmp_path, "mastodon", "check", "--hashtag", "#NHSSM",
                                   MASTODON_ACCESS_TOKEN=server.token, **env)
        assert code == 0 and "HTTP 404" in out and "the bot polls instead" in out
        code, out, err = await run(tmp_path, "mastodon", "check",
                                   MASTODON_ACCESS_TOKEN="revoked-token", **env)
        assert code == 2 and "access token" in out + err and "Traceback" not in out + err


async def test_import_commands_store_the_chat_and_count_bad_lines(tmp_path: Path) -> None:
    script = write_script(tmp_path / "chats", chat_script("[mastodon, bluesky]"))
    toots = [{"id": sid, "created_at": at, "in_reply_to_id": parent, "spoiler_text": "",
              "content": render_html(text), "reblog": None,
              "account": {"id": aid, "username": user, "acct": user, "display_name": ""}}
             for sid, at, parent, text, aid, user in (
                 ("11", "2026-11-25T20:00:00Z", None, "Welcome #TestChat", "1", "nhssm"),
                 ("12", "2026-11-25T20:01:00Z", None, "Q1 First? #TestChat", "1", "nhssm"),
                 ("13", "2026-11-25T20:01:40Z", "12", "mine", "2", "ann"))]
    path = tmp_path / "toots.jsonl"
    path.write_bytes(orjson.dumps(toots) + b"\nnot json\n")
    code, out, err = await run(tmp_path, "import", "mastodon", str(path), "--script",
                               str(script), "--host", "nhssm")
    assert code == 0, err
    assert "Messages" in out and "3 (2 by the host)" in out and "1 (line 2)" in out
    code, out, err = await run(tmp_path, "import", "bluesky", str(tmp_path / "missing.jsonl"),
                               "--script", str(script))
    assert code == 2 and "no such file" in out + err and "Traceback" not in out + err
