"""Reloading chats/ while the bot runs: a platform that cannot start is a script problem.

The bot runs on the web room and its JSON API; a new script names Discord with no
DISCORD_TOKEN. That script is reported (log and /api/reload's `problems`), never loaded
half-way, and the scripts after it still load.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.clock import FakeClock
from bot.host import ControlError
from bot.webapp.server import build_app
from tests.web.conftest import SCRIPT, TOKEN, advance_until, make_settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday; the chats are Wednesday 20:00
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def write(tmp: Path, chat_id: str, platforms: str = "[web]") -> Path:
    path = tmp / "chats" / f"{chat_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SCRIPT.format(id=chat_id, close="60m").replace(
        "platforms: [web]", f"platforms: {platforms}"))
    return path


@contextlib.asynccontextmanager
async def bot_from_dir(tmp: Path) -> AsyncIterator[tuple[App, TestClient]]:
    """The bot as `tweetchat run` makes it: scripts read from chats/, the scheduler on."""
    bot = App(make_settings(tmp), clock=FakeClock(NOW), with_web=False)
    await bot.start()
    app, _ = build_app(bot)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield bot, client
    finally:
        await client.close()
        await bot.stop()


def jobs(bot: App) -> list[str]:
    assert bot.scheduler is not None
    return sorted(job for job, _ in bot.scheduler.jobs())


async def test_a_new_script_whose_platform_cannot_start_is_a_problem_not_a_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "alpha")
    async with bot_from_dir(tmp_path) as (bot, client):
        beta = write(tmp_path, "beta", "[discord]")
        write(tmp_path, "gamma")  # sorted after beta: it must still load
        with caplog.at_level(logging.ERROR):
            r = await client.post("/api/reload", headers=BEARER)
        assert r.status == 200
        problems = (await r.json())["problems"]
        assert len(problems) == 1
        assert problems[0].startswith(f"{beta}:12: chat 'beta': Discord: DISCORD_TOKEN is not set")
        assert any("beta.yaml:12" in rec.getMessage() for rec in caplog.records)
        assert sorted(bot.chats) == ["alpha", "gamma"]
        assert bot.archive.chat_first_seen("beta") is None  # never recorded as a chat
        assert not any(":beta:" in job for job in jobs(bot))
        with pytest.raises(ControlError, match="no chat 'beta' is loaded"):
            await bot.start_session("beta", pace=60)
        # The same answer every time, and still no half-loaded chat.
        r = await client.post("/api/reload", headers=BEARER)
        assert r.status == 200 and (await r.json())["problems"] == problems
        assert sorted(bot.chats) == ["alpha", "gamma"]
        # Fixed (back on the web room), it loads.
        write(tmp_path, "beta")
        r = await client.post("/api/reload", headers=BEARER)
        assert (await r.json())["problems"] == []
        assert sorted(bot.chats) == ["alpha", "beta", "gamma"]
        assert list(bot.chats["beta"].platforms) == ["web"]


async def test_a_changed_script_whose_new_platform_cannot_start_keeps_its_last_version(
    tmp_path: Path,
) -> None:
    write(tmp_path, "alpha")
    async with bot_from_dir(tmp_path) as (bot, client):
        before = bot.chats["alpha"].script
        write(tmp_path, "alpha", "[web, discord]")
        r = await client.post("/api/reload", headers=BEARER)
        assert r.status == 200
        [problem] = (await r.json())["problems"]
        assert "DISCORD_TOKEN is not set" in problem and "keeps its previous version" in problem
        runtime = bot.chats["alpha"]
        assert runtime.script is before and list(runtime.platforms) == ["web"]
        assert len(runtime.collectors) == 1
        # Its session still posts on the web room.
        session_id = await bot.start_session("alpha", pace=3600, rehearsal=True)
        assert isinstance(bot.clock, FakeClock)
        await advance_until(bot.clock, bot.host_tasks[session_id].done, step=1,
                            what="the session's end")
        items = bot.archive.items(session_id)
        assert {i.status for i in items} == {"sent"}
        assert {r["platform"] for i in items for r in bot.archive.outbox(session_id, i.key)} \
            == {"web"}


async def test_a_reload_that_fails_is_logged_and_the_next_one_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "alpha")
    async with bot_from_dir(tmp_path) as (bot, _client):
        real_replan = bot.replan

        async def broken_replan() -> dict[str, int]:
            raise OSError("disk full")

        monkeypatch.setattr(bot, "replan", broken_replan)
        write(tmp_path, "gamma")
        with caplog.at_level(logging.ERROR):
            await bot.reload_quietly()  # the file watcher's and SIGHUP's reload: never raises
        assert any("reloading the chat scripts failed" in rec.getMessage()
                   and rec.exc_info is not None for rec in caplog.records)
        monkeypatch.setattr(bot, "replan", real_replan)
        await bot.reload_quietly()
        assert "session:gamma:2026-11-25T20:00:00+00:00" in jobs(bot)


async def test_a_reload_starts_the_platforms_a_script_now_names_and_stops_the_others(
    tmp_path: Path,
) -> None:
    write(tmp_path, "alpha")
    async with bot_from_dir(tmp_path) as (bot, _client):
        runtime = bot.chats["alpha"]
        web = runtime.platforms["web"]
        write(tmp_path, "alpha", "[web, memory]")
        await bot.reload()
        assert list(runtime.platforms) == ["web", "memory"]
        assert runtime.platforms["web"] is web  # kept running, not restarted
        assert [c.platform for c in runtime.collectors] == list(runtime.platforms.values())
        write(tmp_path, "alpha", "[memory]")
        await bot.reload()
        assert list(runtime.platforms) == ["memory"] and len(runtime.collectors) == 1
        session_id = await bot.start_session("alpha", pace=3600, rehearsal=True)
        assert isinstance(bot.clock, FakeClock)
        await advance_until(bot.clock, bot.host_tasks[session_id].done, step=1,
                            what="the session's end")
        rows = [r for i in bot.archive.items(session_id)
                for r in bot.archive.outbox(session_id, i.key)]
        assert {(r["platform"], r["status"]) for r in rows} == {("memory", "sent")}


async def test_changes_to_a_chat_with_a_live_session_wait_for_its_end(tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    write(tmp_path, "gamma")
    async with bot_from_dir(tmp_path) as (bot, _client):
        assert isinstance(bot.clock, FakeClock)
        alpha = await bot.start_session("alpha", pace=60, rehearsal=True)
        gamma = await bot.start_session("gamma", pace=60, rehearsal=True)
        (tmp_path / "chats" / "alpha.yaml").unlink()
        write(tmp_path, "gamma", "[web, memory]")
        await bot.reload()
        # Both sessions carry on where they are; alpha is no longer planned nor startable.
        assert list(bot.chats["gamma"].platforms) == ["web"]
        assert "alpha" in bot.chats and bot.live_session("alpha") == alpha
        assert not any(":alpha:" in job for job in jobs(bot))
        assert [o.chat_id for o in bot.upcoming()] == ["gamma"]
        await advance_until(bot.clock, lambda: "alpha" not in bot.chats and list(
            bot.chats["gamma"].platforms) == ["web", "memory"], step=10,
            what="the chats settling after their sessions")
        assert bot.archive.session(alpha).status == "ended"
        assert bot.archive.session(gamma).status == "ended"
        assert not any(":alpha:" in job for job in jobs(bot))
        with pytest.raises(ControlError, match="no chat 'alpha' is loaded"):
            await bot.start_session("alpha", pace=60)
        # The six-hourly replan plans from the chats it has: alpha stays gone.
        await bot.replan()
        assert not any(":alpha:" in job for job in jobs(bot))
