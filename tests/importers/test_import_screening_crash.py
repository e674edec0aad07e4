"""An import killed at any point never leaves a message visible unscreened, and the same
import run again finishes the screening: no review item twice, none missing."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive
from tests.importers.screening_inputs import CHATS, CHECKS, NEEDLES, Chat

_STATEMENTS: dict[str, int] = {}


def _statements(chat: Chat, path: Path) -> int:
    """How many SQL statements the whole import runs on a new archive."""
    archive = Archive(path)
    seen = [0]
    archive.db.conn.set_trace_callback(lambda _sql: seen.__setitem__(0, seen[0] + 1))
    try:
        chat.load(archive)
    finally:
        archive.db.conn.set_trace_callback(None)
        archive.close()
    return seen[0]


def _killed_at(chat: Chat, path: Path, statement: int) -> int:
    """Run the import in a child killed by SIGKILL just before its `statement`-th SQL."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            archive = Archive(path)
            seen = [0]

            def count(_sql: str) -> None:
                seen[0] += 1
                if seen[0] == statement:
                    os.kill(os.getpid(), signal.SIGKILL)
            archive.db.conn.set_trace_callback(count)
            chat.load(archive)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


def _public(archive: Archive) -> list[str]:
    return [r[0] for r in archive.db.execute("select public_text from messages")]


def _screening(archive: Archive) -> list[tuple[Any, ...]]:
    """Every message's moderation state and every event, without times."""
    return archive.db.execute(
        "select platform, id, public_text, hidden, held, redacted_text, author_name "
        "from messages order by platform, id").fetchall() + archive.db.execute(
        "select platform, message_id, check_name, spans, status, actor, session_id "
        "from moderation_events order by platform, message_id, check_name").fetchall()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(platform=st.sampled_from(["discord", "x"]), where=st.floats(0, 1))
def test_killed_anywhere_then_run_again(tmp_path_factory: Any, platform: str,
                                        where: float) -> None:
    tmp = tmp_path_factory.mktemp(platform)
    chat = CHATS[platform](tmp)
    if platform not in _STATEMENTS:
        _STATEMENTS[platform] = _statements(chat, tmp / "count.db")
    statement = 1 + int(where * (_STATEMENTS[platform] - 1))
    path = tmp / "archive.db"
    status = _killed_at(chat, path, statement)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

    archive = Archive(path)
    try:
        for text in _public(archive):
            assert not [n for n in NEEDLES if n in text], f"unscreened after a kill at {statement}"
        chat.load(archive)
        assert sorted(r[0] for r in archive.db.execute(
            "select check_name from moderation_events")) == CHECKS
        again = _screening(archive)
    finally:
        archive.close()
    whole = Archive(tmp / "whole.db")
    try:
        chat.load(whole)
        assert again == _screening(whole)
    finally:
        whole.close()
