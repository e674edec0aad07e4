"""Shared fixtures: settings pointing at tmp_path, and small chat scripts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.script import ChatScript, load_script
from bot.settings import Settings, load_settings

SMALL_SCRIPT = """\
id: {id}
title: Test chat
hashtag: "#TestChat"
timezone: Europe/London
host: Host
schedule:
  weekly:
    day: wednesday
    start: "20:00"
  duration: 5m
platforms: [memory]
welcome: Welcome to the test chat.
questions:
  - number: 1
    at: 1m
    text: First question?
  - number: 2
    at: 2m
    text: Second question?
  - number: 3
    at: 3m
    text: Third question?
closing:
  at: 4m
  text: Thanks all.
"""


def make_settings(tmp_path: Path, **env: str) -> Settings:
    environ = {
        "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
        "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "TWEETCHAT_CHATS_DIR": str(tmp_path / "chats"),
        "TWEETCHAT_PORT": "0",
        "MODERATOR_TOKEN": "test-moderator-token",
        "TWEETCHAT_CONFIG": str(tmp_path / "no-settings.toml"),
        **env,
    }
    return load_settings(environ=environ, env_file=None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def write_script(directory: Path, text: str = SMALL_SCRIPT, name: str = "test.yaml",
                 chat_id: str = "test") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).replace("{id}", chat_id), encoding="utf-8")
    return path


@pytest.fixture
def small_script(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats"))
