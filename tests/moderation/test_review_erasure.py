"""The review queue, moderators' decisions (audited), and the right to erasure."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.archive import moderation_store as store
from bot.moderation.engine import ModerationEngine
from bot.moderation.erasure import PLACEHOLDER, forget, subject_hash
from bot.moderation.policy import Policy
from bot.moderation.review import ReviewError, decide, decide_sync, review_queue
from tests.moderation.test_engine import T0, Chat, FakePlatform


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    return Chat(tmp_path)


async def _screen(chat: Chat, *texts: str, author: str = "u1",
                  platform: FakePlatform | None = None) -> None:
    events = chat.store(*[chat.event(t, author=author) for t in texts])
    await ModerationEngine(Policy.default()).screen(chat.archive, platform, events,
                                                    chat.session, T0)


def _audit(chat: Chat) -> list[tuple[str, str, str, str]]:
    return [(r["actor"], r["action"], r["target"], r["detail"])
            for r in chat.archive.db["audit_log"].rows_where(order_by="id")]


async def test_queue_lists_open_items_with_their_message(chat: Chat) -> None:
    await _screen(chat, "NHS no 943 476 5919", "all fine here", "what a load of bollocks")
    queue = review_queue(chat.archive)
    assert [(i.message_id, i.check, i.state) for i in queue] == [
        ("m1", "nhs_number", "redacted"), ("m3", "abuse", "held")]
    assert queue[0].text == "NHS no 943 476 5919"  # moderators see what they judge
    assert queue[0].shown == "NHS no [NHS number removed]"
    assert queue[1].shown is None
    assert review_queue(chat.archive, session_id=chat.session + 1) == []


async def test_approve_keeps_redaction_restore_drops_it(chat: Chat) -> None:
    await _screen(chat, "NHS no 943 476 5919, DOB 12/03/1954")
    items = review_queue(chat.archive)
    assert len(items) == 2
    decision = await decide(chat.archive, items[0].event_id, "approve", "mod:sam", T0)
    assert decision.closed == 2 and decision.state == "redacted"
    assert review_queue(chat.archive) == []
    assert chat.public("m1") == "NHS no [NHS number removed], DOB [date of birth removed]"
    decision = await decide(chat.archive, items[0].event_id, "restore", "mod:sam", T0)
    assert decision.state == "visible"
    assert chat.public("m1") == "NHS no 943 476 5919, DOB 12/03/1954"
    assert [a[1] for a in _audit(chat)] == ["moderation.approve", "moderation.restore"]
    assert _audit(chat)[0][:3] == ("mod:sam", "moderation.approve", "fake:m1")


async def test_held_abuse_hidden_or_approved_with_platform(chat: Chat) -> None:
    platform = FakePlatform({"hold", "approve"})
    await _screen(chat, "f*** off you twat", "sh1t", platform=platform)
    first, second = review_queue(chat.archive)
    hid = await decide(chat.archive, first.event_id, "hide", "mod:sam", T0, platform)
    assert hid.state == "hidden" and chat.public("m1") == ""
    assert hid.platform_result is not None and not hid.platform_result.done
    assert "fake could not hide" in _audit(chat)[0][3]
    ok = await decide(chat.archive, second.event_id, "approve", "mod:sam", T0, platform)
    assert ok.platform_result is not None and ok.platform_result.done
    assert chat.public("m2") == "sh1t" and platform.actions[-1].kind == "approve"


async def test_redact_decision_masks_what_it_can(chat: Chat) -> None:
    await _screen(chat, "this is shit, email x@y.org", "https://shop.example/x #NHSSM")
    items = {i.check: i for i in review_queue(chat.archive)}
    assert set(items) == {"abuse", "email", "link_only"}
    d = decide_sync(chat.archive, items["abuse"].event_id, "redact", "cli", T0)
    assert d.closed == 2 and chat.public("m1") == "this is [removed], email [email removed]"
    decide_sync(chat.archive, items["link_only"].event_id, "redact", "cli", T0)
    assert chat.public("m2") == "[removed by a moderator]"


async def test_decision_mistakes_are_one_line(chat: Chat) -> None:
    with pytest.raises(ReviewError, match="no review item 99"):
        await decide(chat.archive, 99, "approve", "mod", T0)
    with pytest.raises(ReviewError, match="unknown decision 'aprove'"):
        await decide(chat.archive, 1, "aprove", "mod", T0)


@pytest.mark.parametrize("mode", ["anonymise", "remove"])
async def test_forget_a_participant(chat: Chat, mode: str) -> None:
    await _screen(chat, "A1 call me on 07911 123456", "A2 we train all staff", author="jo")
    await _screen(chat, "A1 agree with jo", author="sam")
    edit = chat.event("A2 we train all staff yearly", author="jo", kind="edited", mid="m2")
    chat.store(edit)
    chat.archive.set_role("nhssm", "fake", "jo", "Nurse", T0)
    chat.archive.set_role("nhssm", "fake", "sam", "Patient", T0)
    report = forget(chat.archive, "fake", "jo", "dpo@trust", T0,
                    mode=mode)  # type: ignore[arg-type]
    assert (report.messages, report.sessions_affected) == (2, (chat.session,))
    db = chat.archive.db
    left = list(db.query("select * from messages where session_id = ? order by id",
                         [chat.session]))
    assert not [r for r in left if r["author_id"] == "jo"]
    everything = " ".join(str(v) for r in left for v in r.values())
    for gone in ("07911", "train", "userjo", "User jo"):
        assert gone not in everything
    if mode == "anonymise":
        assert [r["public_text"] for r in left][:2] == [PLACEHOLDER, PLACEHOLDER]
        assert {r["author_name"] for r in left} == {"Former participant", "User sam"}
    else:
        assert [r["id"] for r in left] == ["m3"]
    assert db.execute("select count(*) from message_edits").fetchone()[0] == 0
    assert [r["id"] for r in db["participants"].rows] == ["sam"]
    assert chat.archive.roles("nhssm") == {("fake", "sam"): "Patient"}  # jo's role is gone
    assert db.execute("select count(*) from messages_fts where messages_fts match '\"train\"'"
                      ).fetchone()[0] == 0
    assert review_queue(chat.archive) == []
    spans = [r["spans"] for r in store.events_for_message(chat.archive, "fake", "m1")]
    assert spans == ["[]"]
    actor, action, target, detail = _audit(chat)[-1]
    assert (actor, action) == ("dpo@trust", f"erasure.{mode}")
    assert target == f"fake:subject:{subject_hash('fake', 'jo')}" and "jo" not in detail
    assert detail.startswith(f"{mode} 2 messages in 1 sessions")
