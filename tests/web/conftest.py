"""Fixtures for the web room: a real App (real SQLite in tmp_path) served on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.platforms.web.server import build_app
from bot.script import ChatScript, load_script
from bot.settings import ArchiveSettings, ChatsSettings, SchedulerSettings, Secrets, Settings, WebSettings

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


def make_settings(tmp: Path, **web: object) -> Settings:
    return Settings(
        archive=ArchiveSettings(path=tmp / "archive.db", transcripts_dir=tmp / "transcripts"),
        chats=ChatsSettings(dir=tmp / "chats"),
        scheduler=SchedulerSettings(jobs_db=tmp / "jobs.db"),
        web=WebSettings(port=0, **web),  # type: ignore[arg-type]
        secrets=Secrets(moderator_token=TOKEN),  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running_app(tmp: Path, *, scripts: list[ChatScript] | None = None,
                      **web: object) -> AsyncIterator[tuple[App, TestClient]]:
    settings = make_settings(tmp, **web)
    bot = App(settings, scripts=scripts if scripts is not None else [make_script(tmp)],
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


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[tuple[App, TestClient]]:
    async with running_app(tmp_path) as pair:
        yield pair
