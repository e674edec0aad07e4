"""The engine end to end: a real archive in tmp_path and a fake platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.archive import moderation_store as store
from bot.archive.records import ItemRow
from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import Policy
from bot.platforms.base import Capabilities, ChatContext, Platform
from bot.records import Action, ActionResult, Author, Event, Message, PostRef

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


class FakePlatform(Platform):
    """Records every action; can do only what it is told it can."""

    name = "fake"

    def __init__(self, can: set[str]) -> None:
        super().__init__(ChatContext("nhssm", "NHS SM", "#NHSSM"))
        self.can = can
        self.capabilities = Capabilities(actions=frozenset(can))
        self.actions: list[Action] = []

    async def post(self, text: str, *, reply_to: str | None = None,
                   new_thread: str | None = None) -> PostRef:
        return PostRef(self.name, "p1")

    async def events(self) -> AsyncIterator[Event]:  # pragma: no cover - not used here
        if False:
            yield

    async def act(self, action: Action) -> ActionResult:
        self.actions.append(action)
        if action.kind in self.can:
            return ActionResult(True, "ok")
        return ActionResult(False, f"fake cannot {action.kind}")


class Chat:
    """A session in a real archive, and a way to say things in it."""

    def __init__(self, path: Path) -> None:
        self.archive = Archive(path / "archive.db")
        self.session = self.archive.create_session(
            chat_id="nhssm", title="NHS SM", hashtag="#NHSSM", timezone="Europe/London",
            scheduled_start=T0, duration_minutes=60, platforms=["fake"],
            items=[ItemRow(key="q1", number=1, text="Q1 How do you use social media?",
                           due_offset=0)],
        )
        self.n = 0

    def event(self, text: str, *, author: str = "u1", kind: str = "created", mid: str | None = None,
              at: datetime | None = None) -> Event:
        self.n += 1
        mid = mid or f"m{self.n}"
        at = at or T0 + timedelta(seconds=self.n)
        msg = Message(platform="fake", id=mid, author=Author("fake", author, f"User {author}",
                                                              f"user{author}"),
                      text=text, created=at, edited=at if kind == "edited" else None,
                      raw={"text": text})
        return Event(kind=kind, platform="fake", message_id=mid,  # type: ignore[arg-type]
                     at=at, message=msg)

    def store(self, *events: Event) -> list[Event]:
        self.archive.record_events(list(events), session_id=self.session, chat_id="nhssm")
        return list(events)

    def public(self, mid: str) -> str:
        return self.archive.db.execute(
            "select public_text from messages where platform = 'fake' and id = ?", [mid]
        ).fetchone()[0]


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    return Chat(tmp_path)


async def test_identifiers_are_redacted_and_flagged(chat: Chat) -> None:
    engine = ModerationEngine(Policy.default())
    platform = FakePlatform({"redact", "modlog"})
    events = chat.store(chat.event("A1 my NHS no is 943 476 5919 ring 07911 123456"),
                        chat.event("A1 we have a policy, 3 pages #NHSSM"))
    report = await engine.screen(chat.archive, platform, events, chat.session, T0)
    assert report.screened == 2
    assert report.actioned == [("fake", "m1", "redact")]
    expected = "A1 my NHS no is [NHS number removed] ring [phone number removed]"
    assert chat.public("m1") == expected
    assert chat.public("m2") == "A1 we have a policy, 3 pages #NHSSM"
    stored = chat.archive.message("fake", "m1")
    assert stored is not None and stored.public_text == expected and stored.public
    redact = [a for a in platform.actions if a.kind == "redact"]
    assert redact == [Action("redact", message_id="m1", author_id="u1",
                             reason="NHS number, phone number", text=expected)]
    modlog = [a for a in platform.actions if a.kind == "modlog"]
    assert len(modlog) == 1 and "943" not in (modlog[0].text or "")
    rows = store.events_for_message(chat.archive, "fake", "m1")
    assert [(r["check_name"], r["status"], r["spans"]) for r in rows] == [
        ("nhs_number", "open", "[[16,28]]"), ("phone", "open", "[[34,46]]")]
    # nothing confidential is copied into the moderation tables
    assert all("5919" not in (r["reason"] or "") for r in rows)
    # full-text search sees only the masked text
    hits = chat.archive.db.execute(
        "select count(*) from messages_fts where messages_fts match '\"5919\"'").fetchone()[0]
    assert hits == 0


async def test_what_the_platform_cannot_do_becomes_a_flag(chat: Chat) -> None:
    engine = ModerationEngine(Policy.default())
    platform = FakePlatform(set())  # can do nothing at all
    events = chat.store(chat.event("this new policy is sh1t"))
    await engine.screen(chat.archive, platform, events, chat.session, T0)
    assert [a.kind for a in platform.actions] == ["hold", "modlog"]
    rows = store.events_for_message(chat.archive, "fake", "m1")
    assert [(r["check_name"], r["action"], r["status"]) for r in rows] == [
        ("abuse", "hold", "open"), ("platform", "flag", "open")]
    assert "fake could not hold" in rows[1]["reason"]
    # the archive still holds it back, so no transcript or search shows it
    assert chat.public("m1") == ""
    stored = chat.archive.message("fake", "m1")
    assert stored is not None and not stored.public


async def test_replays_are_harmless_and_edits_are_judged_again(chat: Chat) -> None:
    engine = ModerationEngine(Policy.default())
    platform = FakePlatform({"redact", "modlog"})
    first = chat.event("email me at jo@trust.nhs.uk", mid="e1")
    chat.store(first)
    await engine.screen(chat.archive, platform, [first], chat.session, T0)
    await engine.screen(chat.archive, platform, [first], chat.session, T0)  # backfill replay
    assert len(store.events_for_message(chat.archive, "fake", "e1")) == 1
    assert [a.kind for a in platform.actions].count("redact") == 1
    # same span, new words around it: re-masked from the new text, no new review item
    edit = chat.event("email me at jo@trust.nhs.uk pls", mid="e1", kind="edited",
                      at=T0 + timedelta(minutes=1))
    chat.store(edit)
    await engine.screen(chat.archive, platform, [edit], chat.session, T0)
    assert chat.public("e1") == "email me at [email removed] pls"
    assert len(store.events_for_message(chat.archive, "fake", "e1")) == 1
    # the author edits the address out: the stale mask goes, the new text shows
    clean = chat.event("email me, details in my profile", mid="e1", kind="edited",
                       at=T0 + timedelta(minutes=2))
    chat.store(clean)
    await engine.screen(chat.archive, platform, [clean], chat.session, T0)
    assert chat.public("e1") == "email me, details in my profile"


async def test_flood_is_hidden_and_times_out_when_configured(chat: Chat) -> None:
    policy = Policy.default()
    engine = ModerationEngine(policy)
    platform = FakePlatform({"hide", "modlog"})
    events = chat.store(*[chat.event(f"A{i} point number {i}", author="spammer")
                          for i in range(1, 11)])
    report = await engine.screen(chat.archive, platform, events, chat.session, T0)
    hidden = [mid for _, mid, action in report.actioned if action == "hide"]
    assert hidden == ["m8", "m9", "m10"]  # the 8th message within 60 s and after
    assert chat.public("m7") == "A7 point number 7" and chat.public("m8") == ""
    rows = store.events_for_message(chat.archive, "fake", "m8")
    assert [(r["check_name"], r["status"]) for r in rows] == [("spam_flood", "hidden")]


async def test_combined_checks_take_the_most_severe_action(chat: Chat) -> None:
    engine = ModerationEngine(Policy.default())
    platform = FakePlatform({"hold", "modlog"})
    events = chat.store(chat.event("DOB 12/03/1954, what a shit form"))
    report = await engine.screen(chat.archive, platform, events, chat.session, T0)
    assert report.actioned == [("fake", "m1", "hold")]
    state = store.message_state(chat.archive, "fake", "m1")
    assert state is not None and state["held"]
    assert state["redacted_text"] == "DOB [date of birth removed], what a shit form"
    assert [n.to for n in report.notices] == ["moderators", "author"]
    assert "waiting for a moderator" in report.notices[1].text


async def test_host_posts_and_bots_are_not_screened(chat: Chat) -> None:
    engine = ModerationEngine(Policy.default())
    platform = FakePlatform({"redact"})
    host = chat.event("Q1 call us on 07911 123456")
    chat.archive.record_events([host], session_id=chat.session, chat_id="nhssm")
    chat.archive.db["messages"].update(("fake", host.message_id), {"is_host": 1})
    bot_msg = Message(platform="fake", id="b1", author=Author("fake", "bot", "Bot", is_bot=True),
                      text="ring 07911 123456", created=T0)
    bot_event = Event("created", "fake", "b1", T0, bot_msg)
    report = await engine.screen(chat.archive, platform, [host, bot_event], chat.session, T0)
    assert report.actioned == [] and platform.actions == []


async def test_apply_without_a_platform(chat: Chat) -> None:
    """Importers moderate archived chats with no platform: state and events only."""
    engine = ModerationEngine(Policy.default())
    chat.store(chat.event("born on 3 March 1954 in SW1A 1AA"))
    stored = chat.archive.message("fake", "m1")
    assert stored is not None
    verdict = engine.verdict(stored.text, None, stored.created)
    result = await engine.apply(chat.archive, None, stored, verdict, T0)
    assert len(result.event_ids) == 2 and result.results == []
    assert chat.public("m1") == "born on [date of birth removed] in [postcode removed]"
