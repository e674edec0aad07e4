"""The fast session read: same records as the general one, one read, only changes written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive import Archive, ItemRow
from bot.archive.bulk import import_mode
from bot.archive.records import stored_message
from bot.archive.rows import COLUMNS, message_from_values
from bot.attribution import attribute
from bot.publishing import attributed_messages
from bot.records import Author, Event, Message, PostRef

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
NAMES = [c.strip() for c in COLUMNS.split(",")]
maybe_text = st.none() | st.text(max_size=20)
when = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)).map(datetime.isoformat)
row_values = st.fixed_dictionaries({
    "platform": st.sampled_from(["x", "discord", "web"]), "id": st.text(min_size=1, max_size=8),
    "session_id": st.none() | st.integers(1, 99), "author_id": st.text(max_size=8),
    "author_name": maybe_text, "author_handle": maybe_text, "text": maybe_text,
    "created": when, "reply_to": maybe_text, "thread_id": maybe_text,
    "edited": st.none() | when, "deleted": st.sampled_from([0, 1, None]),
    "hidden": st.sampled_from([0, 1, None]), "held": st.sampled_from([0, 1, None]),
    "redacted_text": maybe_text, "reactions": st.none() | st.integers(0, 50),
    "is_host": st.sampled_from([0, 1]), "url": maybe_text,
    "kind": st.sampled_from([None, "message", "quote"]),
    "question": st.none() | st.integers(1, 9),
    "section": st.sampled_from([None, "question", "welcome", "host"]),
    "method": st.sampled_from([None, "tag", "reply"]),
    "confidence": st.none() | st.floats(0, 1),
    "extra_questions": st.sampled_from([None, "", "[]", "[2]", "[2, 3]"]),
})


@settings(max_examples=300)
@given(row_values)
def test_the_fast_record_equals_the_general_one(row: dict[str, object]) -> None:
    assert sorted(row) == sorted(NAMES)
    fast = message_from_values(tuple(row[name] for name in NAMES))
    general = stored_message(row)
    assert fast == general
    assert fast.key == general.key


def test_import_mode_puts_the_settings_back(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    before = [archive.db.execute(f"PRAGMA {p}").fetchone()[0]
              for p in ("cache_size", "wal_autocheckpoint")]
    with import_mode(archive):
        assert archive.db.execute("PRAGMA cache_size").fetchone()[0] == -65536
        # 64 MB of log between checkpoints, whatever the archive's page size.
        page = archive.db.execute("PRAGMA page_size").fetchone()[0]
        assert archive.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] * page == 64 << 20
    after = [archive.db.execute(f"PRAGMA {p}").fetchone()[0]
             for p in ("cache_size", "wal_autocheckpoint")]
    assert after == before
    archive.close()


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Archive, int]:
    archive = Archive(tmp_path / "archive.db")
    sid = archive.create_session(
        chat_id="c", title="Chat", hashtag="#C", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=["memory"],
        items=[ItemRow("welcome", None, "Hi", 0), ItemRow("q1", 1, "Q1 x", 300),
               ItemRow("q2", 2, "Q2 y", 600)])
    host = Author("memory", "host", "Host")
    for key, at in (("q1", 300), ("q2", 600)):
        post = Message("memory", f"p-{key}", host, f"{key} text", T0 + timedelta(seconds=at))
        archive.mark_sent(sid, key, PostRef("memory", post.id), post.created, message=post)
    jo = Author("memory", "jo", "Jo")
    texts = ["A1 yes", "A2 no", "agreed", "A1/A2 both", "late remark"]
    events = [Event("created", "memory", str(i), T0 + timedelta(seconds=400 + 60 * i),
                    Message("memory", str(i), jo, text, T0 + timedelta(seconds=400 + 60 * i),
                            reply_to="0" if text == "agreed" else None))
              for i, text in enumerate(texts)]
    archive.record_events(events, session_id=sid, chat_id="c")
    return archive, sid


def test_attribution_is_written_once_and_read_once(chat: tuple[Archive, int]) -> None:
    archive, sid = chat
    session, items = archive.session(sid), archive.items(sid)
    expected = attribute(archive.messages(sid), items, tag_style=session.tag_style)

    first = attributed_messages(archive, session, items)
    stored = archive.messages(sid)
    assert first == stored  # what was returned is exactly what was written
    assert {m.key: (m.question, m.section, m.method, m.extra_questions) for m in stored} == {
        k: (a.question, a.section, a.method, a.extra_questions) for k, a in expected.items()}

    # Nothing changed since: the second render writes nothing at all.
    changes = archive.db.conn.total_changes
    assert attributed_messages(archive, session, items) == stored
    assert archive.db.conn.total_changes == changes
