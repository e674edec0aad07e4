"""The schema: one ordered list of migrations, applied when an archive opens, and archives
made by earlier versions (which ran the moderation step at import time) upgrade in place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.archive import Archive, moderation_store, schema

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def _applied(db: Database) -> list[str]:
    return [r[0] for r in db.execute("select name from _sqlite_migrations order by id")]


def _indexes(db: Database, table: str) -> set[tuple[str, ...]]:
    return {tuple(i.columns) for i in db.table(table).indexes}


def _event(db: Database, **extra: object) -> None:
    db.table("moderation_events").insert({
        "platform": "x", "message_id": "9", "session_id": None, "check_name": "phone",
        "action": "hold", "spans": "[]", "reason": "a phone number", "status": "open",
        "actor": "policy", "at": T0.isoformat(), **extra,
    })


def test_a_new_archive_records_every_step_in_the_listed_order(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "new.db")
    assert _applied(archive.db) == [step.__name__ for step in schema.STEPS]
    assert "decided_at" in archive.db.table("moderation_events").columns_dict
    archive.close()
    again = Archive(tmp_path / "new.db")  # opening again applies nothing twice
    assert _applied(again.db) == [step.__name__ for step in schema.STEPS]
    again.close()


def test_an_archive_from_before_m003_upgrades_with_its_moderation_history(
    tmp_path: Path,
) -> None:
    """The order an old version ran its steps in: the moderation step (then registered when
    its module was imported) came before m003 existed. Opening it adds m003 only."""
    path = tmp_path / "old.db"
    old = Migrations("tweetchat")
    for step in (schema.m001_core, schema.m002_narrow_fts_update_trigger,
                 schema.m101_moderation_review):
        old()(step)
    db = Database(str(path))
    old.apply(db)
    db.table("messages").insert({"platform": "x", "id": "9", "text": "call 07700 900123",
                                 "public_text": "", "held": 1, "created": T0.isoformat(),
                                 "raw": '{"id": "9"}', "author_id": "a", "author_name": "Jo"})
    _event(db, status="hidden", actor="mod", decided_at=T0.isoformat())
    db.close()

    archive = Archive(path)
    assert _applied(archive.db) == [
        "m001_core", "m002_narrow_fts_update_trigger", "m101_moderation_review",
        "m003_message_raw", "m004_participant_roles", "m005_moderator_sessions",
        "m006_message_reach", "m007_erased_messages",
    ]
    [kept] = moderation_store.events_for_message(archive, "x", "9")
    assert (kept["status"], kept["actor"], kept["decided_at"]) == ("hidden", "mod", T0.isoformat())
    assert archive.message("x", "9").raw == {"id": "9"}
    archive.close()


def test_an_archive_missing_the_moderation_step_gets_it_on_open(tmp_path: Path) -> None:
    """No moderation module needs importing first: opening the archive is enough, and the
    review queue's writes work straight away."""
    path = tmp_path / "old.db"
    db = Database(str(path))
    schema.migrations.apply(db, stop_before="m101_moderation_review")
    _event(db)
    assert "decided_at" not in db.table("moderation_events").columns_dict
    db.close()

    archive = Archive(path)
    assert _applied(archive.db)[-5:] == ["m101_moderation_review", "m004_participant_roles",
                                         "m005_moderator_sessions", "m006_message_reach",
                                         "m007_erased_messages"]
    assert {("platform", "message_id"), ("session_id", "status")} <= _indexes(
        archive.db, "moderation_events")
    closed = moderation_store.close_events(archive, "x", "9", also=None, status="approved",
                                           actor="mod", at=T0)
    assert closed == 1
    [event] = moderation_store.events_for_message(archive, "x", "9")
    assert (event["status"], event["decided_at"]) == ("approved", T0.isoformat())
    archive.close()
