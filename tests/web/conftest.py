"""Fixtures for the web room: a real App (real SQLite in tmp_path) served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.clock import Clock, FakeClock
from bot.script import ChatScript, load_script
from bot.settings import (
    ArchiveSettings,
    ChatsSettings,
    SchedulerSettings,
    Secrets,
    Settings,
    WebSettings,
)
from bot.webapp.server import WebServer, build_app

TOKEN = "test-moderator-token-0123456789"

SCRIPT = """\
id: {id}
title: "Web room test chat"
hashtag: "#WebTest"
timezone: Europe/London
host: "Test Host"
schedule:
  weekly:
    day: wednesday
    start: "20:00"
  duration: 60m
  skip: [2031-01-01]
platforms: [web]
welcome: Welcome to the web room test. Answer with A1, A2 and the hashtag.
questions:
  - number: 1
    at: 1m
    text: What brings you here today?
  - number: 2
    at: 2m
    text: What would you change first?
closing:
  at: {close}
  text: Thank you all; the transcript follows.
"""


def make_script(tmp: Path, chat_id: str = "webtest", close: str = "60m") -> ChatScript:
    path = tmp / "chats" / f"{chat_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SCRIPT.format(id=chat_id, close=close))
    return load_script(path)


def make_settings(tmp: Path, *, token: str = TOKEN, **web: object) -> Settings:
    return Settings(
        archive=ArchiveSettings(path=tmp / "archive.db", transcripts_dir=tmp / "transcripts"),
        chats=ChatsSettings(dir=tmp / "chats"),
        scheduler=SchedulerSettings(jobs_db=tmp / "jobs.db"),
        web=WebSettings(port=0, **web),  # type: ignore[arg-type]
        secrets=Secrets(moderator_token=token),  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running_app(tmp: Path, *, scripts: list[ChatScript] | None = None,
                      clock: Clock | None = None, token: str = TOKEN, **web: object
                      ) -> AsyncIterator[tuple[App, TestClient]]:
    settings = make_settings(tmp, token=token, **web)
    bot = App(settings, clock=clock, scripts=scripts if scripts is not None else [make_script(tmp)],
              with_scheduler=False, with_web=False)
    await bot.start()
    app, _ = build_app(bot)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield bot, client
    finally:
        await client.close()
        await bot.stop()


@contextlib.asynccontextmanager
async def served(tmp: Path) -> AsyncIterator[tuple[App, WebServer]]:
    """The bot with its own HTTP server (`WebServer`, as `tweetchat run` starts it) on a
    free port of 127.0.0.1: what a browser or a raw socket reaches."""
    bot = App(make_settings(tmp), scripts=[make_script(tmp)], with_scheduler=False,
              with_web=False)
    await bot.start()
    web = WebServer(bot, host="127.0.0.1", port=0)
    await web.start()
    try:
        yield bot, web
    finally:
        await web.stop()
        await bot.stop()


async def sign_in(client: TestClient) -> str:
    """Sign in to the console as a browser would; the CSRF value its page carries."""
    r = await client.post("/moderate/login", data={"token": TOKEN}, allow_redirects=False)
    assert r.status == 303, r.status
    cookie = r.headers["Set-Cookie"]
    assert "tweetchat_mod=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert TOKEN not in cookie  # the cookie holds a session id, never the token
    page = await (await client.get("/moderate")).text()
    found = re.search(r'data-csrf="([0-9a-f]{64})"', page)
    assert found, "the console page carries no CSRF value"
    return found.group(1)


async def until(condition, *, tries: int = 500, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Wait for `condition()` to be truthy, yielding to the loop between looks."""
    for _ in range(tries):
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def frames_until(ws, kind: str, *, where=None, limit: int = 50) -> list[dict]:  # type: ignore[no-untyped-def]
    """Read frames until one of type `kind` (matching `where`) arrives; returns all read."""
    seen = []
    for _ in range(limit):
        frame = await ws.receive_json(timeout=10)
        seen.append(frame)
        if frame.get("type") == kind and (where is None or where(frame)):
            return seen
    raise AssertionError(f"no {kind!r} frame among {seen}")


async def join(client: TestClient, name: str = "Ann", key: str | None = None,
               chat: str = "webtest", **extra: object):  # type: ignore[no-untyped-def]
    ws = await client.ws_connect(f"/chats/{chat}/ws")
    await ws.send_json({"type": "join", "key": key or (name.lower() * 20)[:24], "name": name,
                        **extra})
    state = await ws.receive_json(timeout=10)
    assert state["type"] == "state", state
    return ws, state


async def advance_until(clock: FakeClock, condition, *, step: float = 5, what: str = "condition",
                        max_steps: int = 200):  # type: ignore[no-untyped-def]
    """Move the fake clock in steps until `condition()` holds (the host may start sleeping
    just after a step, so one big jump could be missed)."""
    for _ in range(max_steps):
        value = condition()
        if value:
            return value
        await clock.run_for(step, step=step)
        await asyncio.sleep(0.005)
    raise AssertionError(f"the clock moved on but {what} never happened")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 7, 12, 0, tzinfo=UTC))


@pytest.fixture
async def room(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[App, TestClient]]:
    async with running_app(tmp_path, clock=clock) as pair:
        yield pair


@pytest.fixture
async def live(room: tuple[App, TestClient], clock: FakeClock
               ) -> AsyncIterator[tuple[App, TestClient, int]]:
    """A live session whose welcome and Q1 have gone out."""
    bot, client = room
    sid = await bot.start_session("webtest")
    await until(lambda: any(i.key == "welcome" and i.status == "sent"
                            for i in bot.archive.items(sid)), what="welcome")
    await advance_until(clock, lambda: any(i.key == "q1" and i.status == "sent"
                                           for i in bot.archive.items(sid)), what="Q1")
    yield bot, client, sid
