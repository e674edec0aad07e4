"""The archive: upserts are idempotent, edits and deletes are kept, search takes #tags."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive, ItemRow, search
from bot.archive.search import fts_query
from bot.records import Author, Event, Message, PostRef

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def msg(mid: str, text: str, who: str = "jo", at: int = 0, **kw) -> Message:
    return Message("memory", mid, Author("memory", who, who.title()), text,
                   T0 + timedelta(seconds=at), raw={"id": mid, "text": text}, **kw)


def created(m: Message) -> Event:
    return Event("created", m.platform, m.id, m.created, m)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    a = Archive(tmp_path / "archive.db")
    yield a
    a.close()


@pytest.fixture
def session_id(archive: Archive) -> int:
    return archive.create_session(
        chat_id="c", title="Chat", hashtag="#C", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=["memory"],
        items=[ItemRow("welcome", None, "Hi", 0), ItemRow("q1", 1, "Q1 x", 300)])


def test_replayed_events_change_nothing(archive: Archive, session_id: int) -> None:
    events = [created(msg(str(i), f"A1 answer {i}", at=i)) for i in range(50)]
    assert archive.record_events(events, session_id=session_id, chat_id="c") == 50
    before = archive.db.execute("select * from messages order by id").fetchall()
    assert archive.record_events(events, session_id=session_id, chat_id="c") == 0
    assert archive.db.execute("select * from messages order by id").fetchall() == before


def test_a_replayed_create_does_not_undo_an_edit(archive: Archive, session_id: int) -> None:
    original = msg("1", "A1 tpyo")
    archive.record_events([created(original)], session_id=session_id)
    edited = replace(original, text="A1 typo fixed", edited=T0 + timedelta(minutes=1))
    archive.record_events([Event("edited", "memory", "1", edited.edited, edited)])
    archive.record_events([created(original)])  # a backfill brings the old version again
    stored = archive.message("memory", "1")
    assert stored.text == "A1 typo fixed" and stored.edited == edited.edited
    history = list(archive.db["message_edits"].rows)
    assert [(h["old_text"], h["new_text"]) for h in history] == [("A1 tpyo", "A1 typo fixed")]


def test_deleted_messages_are_kept_flagged_and_unsearchable(archive: Archive,
                                                            session_id: int) -> None:
    archive.record_events([created(msg("1", "secret canteen gossip"))], session_id=session_id)
    assert search(archive, "canteen")
    archive.record_events([Event("deleted", "memory", "1", T0)])
    stored = archive.message("memory", "1")
    assert stored.deleted and stored.text == "secret canteen gossip"
    assert not stored.public
    assert search(archive, "canteen") == []


def test_same_id_on_two_platforms_are_two_messages(archive: Archive, session_id: int) -> None:
    a = msg("7", "from memory")
    b = replace(a, platform="web", text="from the web", author=Author("web", "x", "X"))
    archive.record_events([created(a), created(b)], session_id=session_id)
    assert {m.text for m in archive.messages(session_id)} == {"from memory", "from the web"}


@pytest.mark.parametrize("query", ["#NHSSM", "nhssm", "@jo", "A1", '"canteen rule"',
                                   "canteen AND", "NEAR(", "-minus", "(*)"])
def test_search_takes_what_people_type(archive: Archive, session_id: int, query: str) -> None:
    archive.record_events([created(msg("1", "A1 the canteen rule #NHSSM @jo -minus (*) NEAR("))],
                          session_id=session_id)
    assert fts_query(query)  # never an empty or raw FTS expression
    hits = search(archive, query)  # never an FTS syntax error
    assert all(h.session_id == session_id for h in hits)
    if query in ("#NHSSM", "nhssm", "@jo", "A1"):
        assert len(hits) == 1


def test_redaction_is_what_search_and_public_text_see(archive: Archive, session_id: int) -> None:
    archive.record_events([created(msg("1", "call me on 07700 900123"))], session_id=session_id)
    archive.set_moderation_state("memory", "1", redacted_text="call me on [phone removed]")
    assert search(archive, "07700") == []
    assert len(search(archive, "removed")) == 1
    assert archive.message("memory", "1").public_text == "call me on [phone removed]"


def test_outbox_and_host_post(archive: Archive, session_id: int) -> None:
    archive.mark_sending(session_id, "welcome", "memory")
    assert archive.outbox(session_id, "welcome")[0]["status"] == "sending"
    host = msg("h1", "Hi", who="host")
    archive.mark_sent(session_id, "welcome", PostRef("memory", "h1"), T0, message=host)
    row = archive.outbox(session_id, "welcome")[0]
    assert (row["status"], row["platform_id"], row["attempts"]) == ("sent", "h1", 1)
    assert archive.message("memory", "h1").is_host
    assert archive.items(session_id)[0].refs == {"memory": "h1"}


def test_scheduled_session_is_created_once(archive: Archive, session_id: int) -> None:
    again = archive.create_session(
        chat_id="c", title="Chat", hashtag="#C", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=["memory"], items=[])
    assert again == session_id
    rehearsal = archive.create_session(
        chat_id="c", title="Chat", hashtag="#C", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=["memory"], items=[], rehearsal=True)
    assert rehearsal != session_id


def test_cursors_round_trip(archive: Archive) -> None:
    archive.save_cursor("c", "x", {"hashtag": "100", "conv:5": "7"}, T0)
    archive.save_cursor("c", "x", {"hashtag": "200"}, T0)
    assert archive.cursor("c", "x") == {"hashtag": "200", "conv:5": "7"}
    assert archive.cursor("c", "discord") == {}


def test_participants_and_returning(archive: Archive, session_id: int) -> None:
    archive.record_events([created(msg("1", "hi", who="ana"))], session_id=session_id, chat_id="c")
    later = T0 + timedelta(days=7)
    assert archive.participants_before("c", later) == {("memory", "ana")}
    assert archive.participants_before("c", T0) == set()


def test_wal_mode_and_migrations_are_recorded(archive: Archive) -> None:
    assert archive.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in archive.db.execute("select name from _sqlite_migrations")]
    assert "m001_core" in names
    Archive(archive.path).close()  # opening again applies nothing twice
    assert [r[0] for r in archive.db.execute("select name from _sqlite_migrations")] == names


def test_a_new_archive_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path,
                                                                      archive: Archive) -> None:
    """New archives get PAGE_SIZE pages; one made with SQLite's default keeps working as is."""
    import sqlite3
    from contextlib import closing

    from bot.archive.store import CHECKPOINT_BYTES, PAGE_SIZE

    assert PAGE_SIZE != 4096
    assert archive.db.execute("pragma page_size").fetchone()[0] == PAGE_SIZE
    # The log is checkpointed after as many bytes as before, not four times as many.
    assert archive.db.execute("pragma wal_autocheckpoint").fetchone()[0] * PAGE_SIZE == (
        CHECKPOINT_BYTES)
    path = tmp_path / "made-before.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("pragma user_version = 1")  # the file exists with 4 KiB pages
    older = Archive(path)
    try:
        assert older.db.execute("pragma page_size").fetchone()[0] == 4096
        assert older.db.execute("pragma wal_autocheckpoint").fetchone()[0] == 1000
        older.record_events([created(msg("1", "A1 still fine"))], chat_id="c")
        assert older.message("memory", "1").text == "A1 still fine"
    finally:
        older.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("pragma page_size").fetchone()[0] == 4096


def test_the_import_floor_has_the_archive_page_size() -> None:
    """bench/floors.py cannot import the bot (its start-up would count): kept equal here."""
    from bench import floors
    from bot.archive.store import PAGE_SIZE

    assert floors.PAGE_SIZE == PAGE_SIZE


def test_archive_from_before_m003_upgrades_and_keeps_raw(tmp_path: Path) -> None:
    """The raw payload moved to its own table: an older archive is upgraded in place."""
    from sqlite_utils import Database

    from bot.archive import schema

    path = tmp_path / "old.db"
    db = Database(str(path))
    schema.migrations.apply(db, stop_before="m003_message_raw")
    db.table("messages").insert({"platform": "x", "id": "9", "text": "A1 hi", "public_text":
                                 "A1 hi", "created": T0.isoformat(), "raw": '{"id": "9"}',
                                 "author_name": "Jo"})
    db.close()
    archive = Archive(path)
    assert "raw" not in archive.db.table("messages").columns_dict
    assert archive.message("x", "9").raw == {"id": "9"}
    assert [h.message_id for h in search(archive, "hi")] == []  # no session: not public yet
    assert archive.db.execute("select count(*) from messages_fts where messages_fts match 'hi'"
                              ).fetchone()[0] == 1
    archive.close()


def test_erasure_reaches_the_raw_payload(archive: Archive, session_id: int) -> None:
    from bot.moderation import forget

    archive.record_events([created(msg("1", "A1 my view", who="gus")),
                           created(msg("2", "A1 other view", who="ivy"))], session_id=session_id)
    forget(archive, "memory", "gus", "dpo", T0, mode="anonymise")
    raw = archive.db.execute("select raw from message_raw where id = '1'").fetchone()[0]
    assert "my view" not in (raw or "") and "gus" not in (raw or "")
    archive.record_events([created(msg("1", "A1 my view", who="gus"))])  # a replayed event
    assert "my view" not in (archive.db.execute(
        "select raw from message_raw where id = '1'").fetchone()[0] or "")
    forget(archive, "memory", "ivy", "dpo", T0, mode="remove")
    assert archive.db.execute("select count(*) from message_raw where id = '2'").fetchone()[0] == 0


def test_participants_by_session_leaves_out_the_host(archive: Archive, session_id: int) -> None:
    archive.record_events([created(msg("1", "A1 hi", who="ana")),
                           created(msg("2", "A1 yo", who="ben")),
                           created(msg("3", "A1 again", who="ana"))],
                          session_id=session_id, chat_id="c")
    archive.record_events([created(msg("h", "Q1 x", who="host"))], session_id=session_id,
                          chat_id="c", host=True)
    assert archive.participants_by_session("c") == {
        session_id: {("memory", "ana"), ("memory", "ben")}}
    assert archive.participants_by_session("other") == {}
