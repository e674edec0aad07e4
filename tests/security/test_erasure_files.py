"""Finding 9 of issue 12: erasure leaves nothing in the files, and names people as the
room showed them.

After `tweetchat forget`, the erased text was still in archive.db-wal and in the full-text
index's data blocks; `forget web:"Display Name"` matched nobody and exited 0.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive, ItemRow
from bot.records import Author, Event, Message
from tests.test_cli import tweetchat

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
SECRET = "xylophonicmarker"
NAME = "Zebedee Quokkaton"


def build_archive(path: Path) -> None:
    """A web session where Zebedee says something private and Ann replies; the bot writes
    it through the archive as it would live (WAL mode, FTS triggers), then closes."""
    archive = Archive(path)
    session = archive.create_session(
        chat_id="nhssm", title="NHS SM", hashtag="#NHSSM", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=["web"],
        items=[ItemRow(key="q1", number=1, text="Q1 Anything?", due_offset=0)])
    people = [("w" + "z" * 24, NAME, f"A1 my {SECRET} story, ward 7"),
              ("w" + "a" * 24, "Ann", "A1 thanks for sharing"),
              ("w" + "z" * 24, NAME, f"A1 and another {SECRET} detail")]
    events = []
    for n, (author_id, name, text) in enumerate(people):
        at = T0 + timedelta(seconds=n + 1)
        message = Message("web", f"m{n}", Author("web", author_id, name), text, at,
                          raw={"text": text, "name": name})
        events.append(Event("created", "web", message.id, at, message))
    archive.record_events(events, session_id=session, chat_id="nhssm")
    archive.close()


def residue(archive: Path) -> dict[str, list[str]]:
    """Which of the archive's files still hold the secret text or the name, byte for byte."""
    found: dict[str, list[str]] = {}
    for file in archive.parent.glob(archive.name + "*"):
        data = file.read_bytes()
        hits = [w for w in (SECRET, "Zebedee", "Quokkaton") if w.encode() in data]
        if hits:
            found[file.name] = hits
    return found


def fts_terms(archive: Path) -> set[str]:
    """Every term the full-text index still knows (fts5vocab reads its data blocks)."""
    db = sqlite3.connect(archive)
    try:
        db.execute("create virtual table temp.vocab using fts5vocab(main, messages_fts, row)")
        return {row[0] for row in db.execute("select term from temp.vocab")}
    finally:
        db.close()


@pytest.mark.parametrize("remove", [False, True])
def test_forget_by_display_name_leaves_nothing_in_any_file(tmp_path: Path, remove: bool) -> None:
    archive = tmp_path / "archive.db"
    build_archive(archive)
    assert residue(archive) and SECRET in fts_terms(archive)  # the test can see it
    args = ["forget", f'web:"{NAME}"'] + (["--remove"] if remove else [])
    result = tweetchat(tmp_path, *args, TWEETCHAT_ARCHIVE=str(archive))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 messages in 1 sessions" in result.stdout
    assert residue(archive) == {}
    assert not {SECRET, "zebedee", "quokkaton"} & fts_terms(archive)
    assert "thanks" in fts_terms(archive)  # everyone else is still searchable


@pytest.mark.parametrize(("who", "words"), [
    ("web:Nobody Here", "nobody on web has the id, name or handle 'Nobody Here'"),
    ("web:w" + "q" * 24, "tweetchat search --json"),
])
def test_forget_someone_who_is_not_there_is_exit_2_with_a_hint(tmp_path: Path, who: str,
                                                               words: str) -> None:
    archive = tmp_path / "archive.db"
    build_archive(archive)
    result = tweetchat(tmp_path, "forget", who, TWEETCHAT_ARCHIVE=str(archive))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0]
    assert SECRET in fts_terms(archive)  # nothing was touched


def test_forget_a_shared_name_asks_for_the_id(tmp_path: Path) -> None:
    archive = tmp_path / "archive.db"
    build_archive(archive)
    result = tweetchat(tmp_path, "forget", "web:ann", TWEETCHAT_ARCHIVE=str(archive))
    assert result.returncode == 0  # one Ann, matched without regard to case
    db = Archive(archive)
    try:
        at = T0 + timedelta(seconds=9)
        message = Message("web", "m9", Author("web", "w" + "b" * 24, NAME), "hello", at)
        db.record_events([Event("created", "web", "m9", at, message)], session_id=1,
                         chat_id="nhssm")
    finally:
        db.close()
    result = tweetchat(tmp_path, "forget", f"web:{NAME}", TWEETCHAT_ARCHIVE=str(archive))
    assert result.returncode == 2 and "2 people on web are called" in result.stderr
