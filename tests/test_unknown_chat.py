"""A chat nobody has heard of is named as such, with the chats that are known: not "no
session is live", not an empty table with exit 0."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.core import ControlError
from tests.conftest import write_script
from tests.test_cli import tweetchat


def archive_with_a_session_of(tmp_path: Path, chat_id: str) -> None:
    archive = Archive(tmp_path / "archive.db")
    archive.create_session(
        chat_id=chat_id, title="T", hashtag="#T", timezone="Europe/London",
        scheduled_start=datetime(2026, 11, 25, 20, 0, tzinfo=UTC), duration_minutes=5,
        platforms=["memory"], items=[], rehearsal=True, pace=60)
    archive.close()


@pytest.mark.parametrize("command", [["sessions", "--json"], ["search", "canteen"]])
def test_an_unknown_chat_is_one_line_naming_the_known_ones(tmp_path: Path,
                                                           command: list[str]) -> None:
    archive_with_a_session_of(tmp_path, "nhssm")
    write_script(tmp_path / "chats", chat_id="planned")  # a script, no session yet
    chats = {"TWEETCHAT_CHATS_DIR": str(tmp_path / "chats")}
    result = tweetchat(tmp_path, *command, "--chat", "nope", **chats)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (f"error: no chat 'nope' in the archive or "
                                     f"{tmp_path / 'chats'}/; known chats: nhssm, planned")
    for known in ("nhssm", "planned"):  # known, with sessions or not yet: a listing, exit 0
        listed = tweetchat(tmp_path, *command, "--chat", known, **chats)
        assert listed.returncode == 0, listed.stderr


async def test_control_names_an_unknown_chat_and_one_with_nothing_live(
        settings, small_script) -> None:  # type: ignore[no-untyped-def]
    from bot.app import App

    app = App(settings, scripts=[small_script], with_scheduler=False, with_web=False)
    await app.start()
    try:
        with pytest.raises(ControlError, match=r"^no chat 'nope' is loaded; the bot hosts: test$"):
            app.control("pause", chat_id="nope")
        with pytest.raises(ControlError, match=r"^no session of 'test' is live right now$"):
            app.control("pause", chat_id="test")
    finally:
        await app.stop()
