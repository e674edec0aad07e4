"""Follower and media counts in the archive (schema m006): stored where messages enter,
read per session, kept through replays, forgotten with the person, and added to archives
made before the step existed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.archive import Archive, moderation_store, schema
from bot.archive.bulk import store_messages
from bot.records import Author, Event, Message

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def _msg(mid: str, who: str, followers: int | None = None, media: int = 0,
         minute: int = 5) -> Message:
    return Message("x", mid, Author("x", who, who.title(), who, followers=followers),
                   f"A1 from {who}", T0 + timedelta(minutes=minute), media=media)


def _session(archive: Archive) -> int:
    archive.upsert_chat(chat_id="nhssm", title="NHSSM", hashtag="#NHSSM",
                        timezone="Europe/London", path="chats/nhssm.yaml", digest="h", now=T0)
    return archive.create_session(chat_id="nhssm", title="NHSSM", hashtag="#NHSSM",
                                  timezone="Europe/London", scheduled_start=T0,
                                  duration_minutes=60, platforms=["x"], items=[])


def test_live_events_store_reach_and_a_replay_without_a_count_keeps_it(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    sid = _session(archive)
    created = [Event("created", "x", m.id, m.created, m) for m in (
        _msg("1", "ann", 1200, 2), _msg("2", "ben"), _msg("3", "cy", None, 1))]
    archive.record_events(created, session_id=sid, chat_id="nhssm")
    assert archive.reach(sid) == {("x", "1"): (1200, 2), ("x", "3"): (None, 1)}
    edited = _msg("1", "ann", None, 1)
    archive.record_events([Event("edited", "x", "1", T0 + timedelta(minutes=9), edited)],
                          session_id=sid, chat_id="nhssm")
    assert archive.reach(sid)[("x", "1")] == (1200, 1)  # count kept, the new media taken
    archive.close()


def test_imports_store_reach_once_and_erasure_forgets_the_count(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    sid = _session(archive)
    batch = [_msg("1", "ann", 1200, 2), _msg("2", "ben", 40), _msg("3", "cy")]
    assert store_messages(archive, batch, chat_id="nhssm") == 3
    archive.db.execute("update messages set session_id = ?", [sid])
    again = [_msg("1", "ann", 5, 0)]  # a re-import changes nothing it already has
    store_messages(archive, again, chat_id="nhssm")
    assert archive.reach(sid) == {("x", "1"): (1200, 2), ("x", "2"): (40, 0)}

    moderation_store.anonymise_author(archive, "x", "ann", new_id="gone-1", name="Removed",
                                      placeholder="[removed]", at=T0)
    assert archive.reach(sid)[("x", "1")] == (None, 2)  # no count left for a forgotten person
    moderation_store.remove_author(archive, "x", "ben", at=T0)
    assert ("x", "2") not in archive.reach(sid)
    rows = archive.db.execute("select platform, id from message_reach order by id").fetchall()
    assert rows == [("x", "1")]  # deleting a message deletes its reach row
    archive.close()


def test_an_archive_from_before_m006_gets_the_table_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(str(path))
    schema.migrations.apply(db, stop_before="m006_message_reach")
    assert "message_reach" not in db.table_names()
    db.close()

    archive = Archive(path)
    names = [r[0] for r in archive.db.execute("select name from _sqlite_migrations order by id")]
    assert names[-2:] == ["m006_message_reach", "m007_erased_messages"]
    assert "message_reach" in archive.db.table_names()
    sid = _session(archive)
    archive.record_events([Event("created", "x", "1", T0, _msg("1", "ann", 7, 1))],
                          session_id=sid, chat_id="nhssm")
    assert archive.reach(sid) == {("x", "1"): (7, 1)}
    archive.close()
