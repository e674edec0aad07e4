"""The archive's schema: every migration, in one ordered list (`STEPS`), applied on open.

sqlite-utils records each step's name in `_sqlite_migrations`, runs each once, in order and
in a transaction, so an archive created by any earlier version upgrades itself when
`Archive` opens it. Never rename a step (the name is what is recorded) and only append.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations


def m001_core(db: Database) -> None:
    """The first schema: chats, sessions, items, outbox, messages, moderation, logs, search."""
    db.table("chats").create(
        {
            "id": str,
            "title": str,
            "hashtag": str,
            "timezone": str,
            "script_path": str,
            "script_hash": str,
            "first_seen": str,
            "updated": str,
        },
        pk="id",
    )
    db.table("sessions").create(
        {
            "id": int,
            "chat_id": str,
            # chat:UTC-start for scheduled sessions (unique); rehearsals add a nonce
            "occurrence": str,
            "title": str,
            "hashtag": str,
            "timezone": str,
            "scheduled_start": str,
            "duration_minutes": int,
            "status": str,
            "rehearsal": int,
            "pace": float,
            "origin": str,  # wall time of script second 0 (moves with pause/resume)
            "platforms": str,
            "started_at": str,
            "ended_at": str,
            "host_name": str,
            "tag_style": str,
            "joined_late": int,
            "notes": str,
        },
        pk="id",
        not_null={"chat_id", "occurrence", "status"},
    )
    db.table("sessions").create_index(["occurrence"], unique=True)
    db.table("sessions").create_index(["chat_id", "scheduled_start"])
    db.table("items").create(
        {
            "session_id": int,
            "key": str,
            "position": int,
            "number": int,
            "text": str,
            "due_offset": float,
            "status": str,
            "posted_at": str,
        },
        pk=("session_id", "key"),
    )
    # The outbox: one row per (item, platform), written before the send, marked after.
    db.table("posts").create(
        {
            "session_id": int,
            "item_key": str,
            "platform": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "platform_id": str,
            "thread_id": str,
            "url": str,
            "sent_at": str,
        },
        pk=("session_id", "item_key", "platform"),
    )
    db.table("messages").create(
        {
            "platform": str,
            "id": str,
            "session_id": int,
            "chat_id": str,
            "author_id": str,
            "author_name": str,
            "author_handle": str,
            "text": str,
            "public_text": str,  # what search and transcripts may show ("" when hidden/deleted)
            "created": str,
            "reply_to": str,
            "thread_id": str,
            "channel_id": str,
            "edited": str,
            "deleted": int,
            "deleted_at": str,
            "hidden": int,
            "held": int,
            "redacted_text": str,
            "reactions": int,
            "is_host": int,
            "url": str,
            "kind": str,
            "question": int,
            "section": str,
            "method": str,
            "confidence": float,
            "extra_questions": str,
            "raw": str,
            "received_at": str,
        },
        pk=("platform", "id"),
        defaults={"deleted": 0, "hidden": 0, "held": 0, "reactions": 0, "is_host": 0},
    )
    db.table("messages").create_index(["session_id", "created"])
    db.table("messages").create_index(["platform", "author_id"])
    db.table("message_edits").create(
        {"platform": str, "id": str, "at": str, "old_text": str, "new_text": str}
    )
    db.table("message_edits").create_index(["platform", "id"])
    db.table("participants").create(
        {
            "platform": str,
            "id": str,
            "name": str,
            "handle": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk=("platform", "id"),
    )
    db.table("moderation_events").create(
        {
            "id": int,
            "platform": str,
            "message_id": str,
            "session_id": int,
            "check_name": str,
            "action": str,
            "spans": str,
            "reason": str,
            "status": str,  # open (in the review queue), approved, restored, hidden, redacted, done
            "actor": str,
            "at": str,
        },
        pk="id",
    )
    db.table("moderation_events").create_index(["status"])
    db.table("audit_log").create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str},
        pk="id",
    )
    db.table("session_log").create(
        {"id": int, "session_id": int, "at": str, "kind": str, "detail": str}, pk="id"
    )
    db.table("session_log").create_index(["session_id"])
    db.table("cursors").create(
        {"chat_id": str, "platform": str, "key": str, "value": str, "updated": str},
        pk=("chat_id", "platform", "key"),
    )
    # Full-text search over what the public may see; triggers keep it in step.
    db.table("messages").enable_fts(
        ["public_text", "author_name", "author_handle"], create_triggers=True, tokenize="unicode61"
    )


# Re-index a message only when an indexed column changes: attribution, session assignment
# and moderation flags are written to every message after the fact and must not churn the
# full-text index (sqlite-utils' default trigger fires on any update).
FTS_UPDATE_TRIGGER = """
CREATE TRIGGER "messages_au" AFTER UPDATE OF "public_text", "author_name", "author_handle"
ON "messages" BEGIN
  INSERT INTO "messages_fts" ("messages_fts", rowid, "public_text", "author_name",
    "author_handle") VALUES('delete', old.rowid, old."public_text", old."author_name",
    old."author_handle");
  INSERT INTO "messages_fts" (rowid, "public_text", "author_name", "author_handle")
    VALUES (new.rowid, new."public_text", new."author_name", new."author_handle");
END
"""


def m002_narrow_fts_update_trigger(db: Database) -> None:
    """Re-index a message only when an indexed column changes."""
    db.execute('DROP TRIGGER IF EXISTS "messages_au"')
    db.execute(FTS_UPDATE_TRIGGER)


# Each message's original payload (a tweet with its includes is ~2 KB) lives beside the
# message, not in it: attribution, session assignment and moderation rewrite message rows
# after the fact, and SQLite rewrites a whole row (here a whole page) on any update. Every
# message has a row here (raw null when there is none or it was erased); deleting the
# message deletes it, whoever deletes.
def m003_message_raw(db: Database) -> None:
    """Move each message's payload out of the row into message_raw."""
    db.execute(
        "create table message_raw (platform text not null, id text not null, raw text, "
        "primary key (platform, id))"
    )
    db.execute("insert into message_raw (platform, id, raw) select platform, id, raw "
               "from messages order by rowid")
    db.execute("alter table messages drop column raw")
    db.execute(
        'CREATE TRIGGER "messages_raw_ad" AFTER DELETE ON "messages" BEGIN '
        "DELETE FROM message_raw WHERE platform = old.platform AND id = old.id; END"
    )


# Moderation review: when each event was decided, and the indexes the review queue reads.
# Numbered 101 because it was first kept beside the moderation code; archives record it
# under this name, so the name stays.
def m101_moderation_review(db: Database) -> None:
    """Record when a moderation event was decided; index the review queue."""
    table = db.table("moderation_events")
    if "decided_at" not in table.columns_dict:
        table.add_column("decided_at", str)
    table.create_index(["platform", "message_id"], if_not_exists=True)
    table.create_index(["session_id", "status"], if_not_exists=True)


# The role a participant declares in a chat (patient, nurse, HR ...): optional, one per
# person and chat, so the summary can say whose voices were heard.
def m004_participant_roles(db: Database) -> None:
    """A table of declared roles, keyed by chat and person."""
    db.execute(
        "create table if not exists participant_roles (chat_id text not null, "
        "platform text not null, author_id text not null, role text not null, "
        "declared_at text not null, primary key (chat_id, platform, author_id))"
    )


# Moderator console sign-ins: the cookie holds a random id, this table its hash, so a
# stolen archive file signs nobody in and signing out revokes the session for good.
def m005_moderator_sessions(db: Database) -> None:
    """A table of console sessions: id hash, token binding, created and expiry times."""
    db.execute(
        "create table if not exists moderator_sessions (id_hash text primary key, "
        "binding text not null, created text not null, expires text not null)"
    )


# Reach: the author's follower count as the platform reported it with the message, and
# how many media the message carried. Beside the message (like message_raw) so the hot
# message rows and their fast reader stay as they are; a row only when there is something
# to say. Deleting the message deletes it.
def m006_message_reach(db: Database) -> None:
    """A table of follower counts and media counts per message."""
    db.execute(
        "create table if not exists message_reach (platform text not null, id text not null, "
        "followers integer, media integer not null default 0, primary key (platform, id))"
    )
    db.execute(
        'CREATE TRIGGER IF NOT EXISTS "messages_reach_ad" AFTER DELETE ON "messages" BEGIN '
        "DELETE FROM message_reach WHERE platform = old.platform AND id = old.id; END"
    )


# Messages erased for good: forget's record of the (platform, id) of every message it
# removed, or found only as the payload of an import that never wrote its row (killed, or
# still running). Only keys are kept (a message id names nobody in the archive once its row
# is gone). The triggers that keep those keys out (`guard_erased`) are made by the first
# erasure that records one: every insert pays for them, so an archive with nothing erased
# goes without.
def m007_erased_messages(db: Database) -> None:
    """A table of erased message keys."""
    db.execute(
        "create table if not exists erased_messages (platform text not null, "
        "id text not null, primary key (platform, id)) without rowid"
    )


def guard_erased(db: Database) -> None:
    """Keep erased keys out: no message, payload or reach row is ever inserted under one.

    A re-import, a replayed event or an import still running when the erasure ran would
    otherwise write them again. Idempotent; runs inside the caller's transaction.
    """
    for table in ("messages", "message_raw", "message_reach"):
        db.execute(
            f'CREATE TRIGGER IF NOT EXISTS "{table}_erased_bi" BEFORE INSERT ON "{table}" '
            "WHEN EXISTS (SELECT 1 FROM erased_messages e WHERE e.platform = new.platform "
            "AND e.id = new.id) BEGIN SELECT RAISE(IGNORE); END"
        )

# The order new archives are built in. Steps are independent of each other's order among
# those an old archive already has (m101 predates m003, so older archives ran it first).
STEPS: tuple[Callable[[Database], None], ...] = (
    m001_core,
    m002_narrow_fts_update_trigger,
    m003_message_raw,
    m101_moderation_review,
    m004_participant_roles,
    m005_moderator_sessions,
    m006_message_reach,
    m007_erased_messages,
)

migrations = Migrations("tweetchat")
for _step in STEPS:
    migrations()(_step)


def migrate(db: Database) -> None:
    """Apply every step this archive has not had yet (run once, by `Archive` on open)."""
    migrations.apply(db)
