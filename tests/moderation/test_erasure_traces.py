"""After `forget`, nothing in any table (full-text shadow tables included) names the person.

A person is seeded into every table the bot writes about people, through the code that
writes them live: their messages and an edit (record_events), a held identifier
(ModerationEngine.screen), a declared role, a moderator's decision they made (review,
audited), a session control they gave (the session log names the controller as the host
writes it), and a Discord reminder opt-in (ScheduleMirror.set_opt_in). Then every table is
dumped, and the index's own vocabulary read, for any of their ids, names or words.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.archive.records import ItemRow
from bot.moderation.engine import ModerationEngine
from bot.moderation.erasure import find_person, forget, subject_hash
from bot.moderation.policy import Policy
from bot.moderation.review import decide_sync, review_queue
from bot.platforms.discord.scheduled_events import ScheduleMirror
from bot.records import Author, Event, Message
from tests.moderation.test_engine import T0

# A realistic id per platform; the name, handle and words are rare enough to find anywhere.
IDS = {"web": "w-7f3a91c2", "discord": "802211446688990011", "x": "1459870001234",
       "mastodon": "109872223344556677", "bluesky": "did:plc:zq7xquokkaberg4u"}
NAME, HANDLE = "Zelda Quokkaberg", "zquokka"
WORDS = ("xanthippe", "marmalade", "periwinkle")


def _said(platform: str, mid: str, author: Author, text: str, n: int,
          kind: str = "created") -> Event:
    at = T0 + timedelta(seconds=n)
    msg = Message(platform, mid, author, text, at, edited=at if kind == "edited" else None,
                  raw={"id": mid, "author": {"id": author.id, "name": author.name,
                                             "username": author.handle}, "text": text})
    return Event(kind, platform, mid, at, msg)  # type: ignore[arg-type]


def _dump(db_path: Path) -> tuple[str, set[str]]:
    """Every value of every table (shadow tables too), and the index's terms."""
    archive = Archive(db_path)
    tables = [r[0] for r in archive.db.execute(
        "select name from sqlite_master where type = 'table' and sql not like "
        "'CREATE VIRTUAL TABLE%'")]
    assert {"messages_fts_data", "messages_fts_idx", "messages_fts_docsize", "audit_log",
            "session_log", "cursors", "moderation_events"} <= set(tables)
    parts = []
    for table in tables:
        for row in archive.db.execute(f"select * from [{table}]"):
            for value in row:
                parts.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    archive.db.execute("create virtual table temp.vocab using fts5vocab(main, messages_fts, row)")
    terms = {r[0] for r in archive.db.execute("select term from temp.vocab")}
    return "\n".join(parts).lower(), terms


def _seed(tmp_path: Path, platform: str) -> tuple[Archive, int, list[Event]]:
    archive = Archive(tmp_path / "archive.db")
    sid = archive.create_session(
        chat_id="nhssm", title="NHS SM", hashtag="#NHSSM", timezone="Europe/London",
        scheduled_start=T0, duration_minutes=60, platforms=[platform],
        items=[ItemRow(key="q1", number=1, text="Q1 How do you use social media?",
                       due_offset=0)])
    uid = IDS[platform]
    zelda = Author(platform, uid, NAME, HANDLE, followers=4321)
    bob = Author(platform, "other-1", "Bob Jones", "bobj", followers=10)
    events = [
        _said(platform, "m1", zelda, "A1 xanthippe marmalade, my NHS no is 943 476 5919", 1),
        _said(platform, "m2", bob, "A1 same here #NHSSM", 2),
        _said(platform, "m3", zelda, "A2 we keep a periwinkle rota", 3),
    ]
    archive.record_events(events, session_id=sid, chat_id="nhssm")
    archive.record_events([_said(platform, "m3", zelda, "A2 we keep a periwinkle rota, weekly",
                                 4, kind="edited")], session_id=sid, chat_id="nhssm")
    return archive, sid, events


@pytest.mark.parametrize("mode", ["anonymise", "remove"])
@pytest.mark.parametrize("platform", sorted(IDS))
async def test_forget_leaves_no_trace_in_any_table(tmp_path: Path, platform: str,
                                                   mode: str) -> None:
    archive, sid, events = _seed(tmp_path, platform)
    uid = IDS[platform]
    await ModerationEngine(Policy.default()).screen(archive, None, events, sid, T0)
    held = review_queue(archive)
    assert held, "the NHS number should be in the review queue"
    archive.set_role("nhssm", platform, uid, "Nurse", T0)
    # Zelda is also a moderator on her platform: her decision is audited under her id.
    decide_sync(archive, held[0].event_id, "approve", f"{platform}:{uid}", T0)
    archive.log_session(sid, "control:pause", f"paused (by {platform}:{HANDLE})", T0)
    archive.audit(actor=f"{platform}:{uid}", action="refused /chat stop", target="42",
                  detail=f"{HANDLE} is not a moderator", at=T0)
    archive.audit(actor="console:ab12", action="moderation.hide", target=f"{platform}:m2",
                  detail="item 7 (abuse); closed 1; now hidden", at=T0)
    mirror = ScheduleMirror(None, "nhssm", 0, archive)  # type: ignore[arg-type]
    if platform == "discord":  # reminder opt-ins are Discord's (/chat join)
        mirror.set_opt_in(uid, True, T0)
    mirror.set_opt_in("other-1", True, T0)
    before, before_terms = _dump(tmp_path / "archive.db")
    assert all(x in before for x in (uid, NAME.lower(), HANDLE, *WORDS))  # the seeding worked
    assert {"zelda", "quokkaberg", "xanthippe"} <= before_terms

    report = forget(archive, platform, uid, actor="dpo@trust", now=T0,
                    mode=mode)  # type: ignore[arg-type]
    assert report.messages == 2 and report.traces == 4 + (platform == "discord")
    archive.close()

    after, terms = _dump(tmp_path / "archive.db")
    for gone in (uid, NAME.lower(), *NAME.lower().split(), HANDLE, *WORDS, "943 476 5919"):
        assert gone not in after, f"{gone!r} is still in the archive after forget"
    assert not terms & {"zelda", "quokkaberg", "zquokka", *WORDS}
    files = b"".join(p.read_bytes() for p in tmp_path.glob("archive.db*")).lower()
    for gone in (uid, NAME.lower(), HANDLE, *WORDS):  # not even in freed pages or the WAL
        assert gone.encode() not in files, f"{gone!r} is still in the archive's files"
    # What happened is kept, by the subject hash: her decision, her refusal, her control.
    subject = f"{platform}:subject:{subject_hash(platform, uid)}"
    reopened = Archive(tmp_path / "archive.db")
    audit = [(r["actor"], r["action"], r["detail"]) for r in reopened.db["audit_log"].rows]
    assert (subject, "moderation.approve") in [a[:2] for a in audit]
    assert (subject, "refused /chat stop", "former participant is not a moderator") in audit
    assert ("console:ab12", "moderation.hide", "item 7 (abuse); closed 1; now hidden") in audit
    log = [r["detail"] for r in reopened.db["session_log"].rows]
    assert f"paused (by {subject})" in log
    # Bob is untouched, and still opted in; she is not.
    assert ScheduleMirror(None, "nhssm", 0, reopened).opted_in() == ["other-1"]  # type: ignore[arg-type]
    assert "bob jones" in after and "same here" in after
    reopened.close()


async def test_a_member_known_only_by_an_opt_in_can_be_forgotten(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.db")
    mirror = ScheduleMirror(None, "nhssm", 0, archive)  # type: ignore[arg-type]
    mirror.set_opt_in("5550001", True, T0)
    assert find_person(archive, "discord", "5550001") == "5550001"
    report = forget(archive, "discord", "5550001", actor="dpo", now=T0)
    assert (report.messages, report.traces) == (0, 1)
    assert mirror.opted_in() == []
