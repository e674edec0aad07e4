"""Shared fixtures: settings pointing at tmp_path, and small chat scripts."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from bot.script import ChatScript, load_script
from bot.settings import Settings, load_settings
from tests import checkout

# Hypothesis would keep its example database and caches in .hypothesis/ inside the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "tweetchat-hypothesis")
hypothesis_settings.register_profile("tweetchat", database=None)
hypothesis_settings.load_profile("tweetchat")
_BEFORE: checkout.Snapshot = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember the checkout, so the run fails if any test writes into it."""
    _BEFORE.update(checkout.snapshot())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests never write into the checkout: name what changed and fail the run."""
    if not _BEFORE:
        return
    changed = checkout.changes(_BEFORE, checkout.snapshot())
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("tests wrote into the checkout: " + "; ".join(changed[:20]),
                                red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def chat_script(platforms: str = "[memory]", platform_settings: str = "", *,
                title: str = "Test chat", welcome: str = "Welcome to the test chat.") -> str:
    """A five-minute weekly test chat: Q1-Q3 at 1, 2 and 3 minutes, the close at 4.
    `{id}` stays a placeholder (write_script fills it); platform_settings is YAML text."""
    return (
        "id: {id}\n"
        f"title: {title}\n"
        'hashtag: "#TestChat"\n'
        "timezone: Europe/London\n"
        "host: Host\n"
        "schedule:\n"
        "  weekly:\n"
        "    day: wednesday\n"
        '    start: "20:00"\n'
        "  duration: 5m\n"
        f"platforms: {platforms}\n"
        f"{platform_settings}"
        f"welcome: {welcome}\n"
        "questions:\n"
        "  - number: 1\n    at: 1m\n    text: First question?\n"
        "  - number: 2\n    at: 2m\n    text: Second question?\n"
        "  - number: 3\n    at: 3m\n    text: Third question?\n"
        "closing:\n"
        "  at: 4m\n"
        "  text: Thanks all.\n"
    )


SMALL_SCRIPT = chat_script()


def no_settings(tmp_path: Path) -> Path:
    """A settings file holding no settings, in tmp_path: a test runs on the defaults.

    Named through TWEETCHAT_CONFIG, it keeps the checkout's config/settings.toml (and the
    developer's own) out of a test; a named file must exist, so it is written.
    """
    path = tmp_path / "no-settings.toml"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# No settings: every key at its default.\n", encoding="utf-8")
    return path


def make_settings(tmp_path: Path, **env: str) -> Settings:
    environ = {
        "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
        "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "TWEETCHAT_CHATS_DIR": str(tmp_path / "chats"),
        "TWEETCHAT_PORT": "0",
        "MODERATOR_TOKEN": "test-moderator-token",
        "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
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


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests save screenshots for a person to look at: $TWEETCHAT_SCREENSHOTS
    when set (outside the checkout), else a temporary folder. Tests never write into the
    checkout."""
    chosen = os.environ.get("TWEETCHAT_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
