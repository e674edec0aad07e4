"""A fixed small session built in code: three questions, replies, an edit, a delete, a
hidden and a redacted message, a second platform, an unplaced answer and hostile text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.archive.records import ItemRow, SessionRow, StoredMessage

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)  # 20:00 GMT, a Wednesday
LONG_WORD = "x" * 5000
RLO = "\u202e"
HIDDEN_TEXT = "HIDDEN-patient Mrs Smith on ward 7"
DELETED_TEXT = "DELETED-oops wrong chat"
REDACTED_ORIGINAL = "ORIGINAL-call me on 07700 900123"
REDACTED_PUBLIC = "[removed by a moderator: personal details]"
DELETED_PARENT_TEXT = "DELETEDPARENT-first draft of an answer"


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def session(**kw: Any) -> SessionRow:
    base = SessionRow(
        id=42,
        chat_id="nhssm",
        title="NHS Social Media chat",
        hashtag="#NHSSM",
        timezone="Europe/London",
        scheduled_start=START,
        duration_minutes=60,
        status="ended",
        rehearsal=False,
        pace=1.0,
        platforms=("web", "discord"),
        started_at=START,
        ended_at=at(60),
        host_name="Alex Host",
    )
    return replace(base, **kw)


def items() -> list[ItemRow]:
    return [
        ItemRow(
            "welcome",
            None,
            "Welcome to #NHSSM! Introduce yourselves.",
            0,
            "sent",
            at(0),
            {"web": "w-welcome"},
        ),
        ItemRow(
            "q1",
            1,
            "Q1 How do you use social media at work? #NHSSM",
            300,
            "sent",
            at(5),
            {"web": "w-q1"},
        ),
        ItemRow(
            "q2",
            2,
            "Q2 What stops staff from joining in? #NHSSM",
            1200,
            "sent",
            at(20),
            {"web": "w-q2"},
        ),
        ItemRow(
            "q3",
            3,
            "Q3 One tip for a first tweet chat? #NHSSM",
            2400,
            "sent",
            at(40),
            {"web": "w-q3"},
        ),
        ItemRow(
            "close",
            None,
            "Thanks all! Transcript soon. #NHSSM",
            3300,
            "sent",
            at(55),
            {"web": "w-close"},
        ),
    ]


def msg(mid: str, minutes: float, author: str, text: str, **kw: Any) -> StoredMessage:
    base: dict[str, Any] = {
        "platform": "web",
        "id": mid,
        "session_id": 42,
        "author_id": author.lower(),
        "author_name": author,
        "author_handle": author.lower(),
        "text": text,
        "created": at(minutes),
    }
    base.update(kw)
    return StoredMessage(**base)


def q(n: int, method: str = "tag", confidence: float = 1.0) -> dict[str, Any]:
    return {"section": "question", "question": n, "method": method, "confidence": confidence}


def messages() -> list[StoredMessage]:
    return [
        # The scripted posts as stored: they are headings, never repeated as messages.
        msg(
            "w-q1",
            5,
            "Alex Host",
            "Q1 How do you use social media at work? #NHSSM",
            is_host=True,
            section="host",
            method="host",
        ),
        msg("m1", 1, "Bea", "Hi all, Bea here, nurse in Leeds #NHSSM", section="welcome"),
        msg("m2", 2, "Cal", "Evening! First time here #NHSSM", section="welcome"),
        msg(
            "m3",
            6,
            "Bea",
            "A1 We share ward news and recruit on Twitter https://example.org/nhs-guide. #NHSSM",
            **q(1),
        ),
        msg(
            "m4",
            7,
            "Cal",
            "A1 mostly listening, learning from other nurses #NHSSM",
            **q(1),
            edited=at(8),
            reactions=2,
        ),
        msg(
            "m5",
            8,
            "Dee",
            "Great point Bea, we recruit on social media too #NHSSM",
            reply_to="m3",
            **q(1, "reply", 0.9),
            reactions=1,
        ),
        msg(
            "m6",
            9,
            "Bea",
            "Thanks Dee! Recruitment posts do well #NHSSM",
            reply_to="m5",
            **q(1, "reply", 0.9),
        ),
        msg("m7", 10, "Eve", DELETED_PARENT_TEXT, **q(1), deleted=True),
        msg(
            "m8",
            11,
            "Finn",
            "Replying to Eve's removed answer: agreed about listening #NHSSM",
            reply_to="m7",
            **q(1, "reply", 0.8),
        ),
        msg("m9", 12, "Gus", HIDDEN_TEXT, **q(1), hidden=True),
        msg("m10", 13, "Cal", DELETED_TEXT, **q(1), deleted=True),
        msg(
            "d1",
            14,
            "Hana",
            "A1 our trust runs a staff Discord for news and recruitment #NHSSM",
            platform="discord",
            **q(1),
        ),
        msg(
            "m11",
            21,
            "Bea",
            "A2 time, and fear of saying the wrong thing <script>alert(1)</script> #NHSSM",
            **q(2),
            reactions=3,
        ),
        msg(
            "m12",
            22,
            "Dee",
            "A2 fear of breaching confidentiality, clear guidance helps #NHSSM",
            **q(2),
        ),
        msg("m13", 24, "Finn", "A2 " + REDACTED_ORIGINAL, **q(2), redacted_text=REDACTED_PUBLIC),
        msg(
            "m14",
            25,
            "Cal",
            "A2 click javascript:alert(1) for guidance, fear of getting it wrong #NHSSM",
            **q(2),
        ),
        msg("m15", 26, "Eve", f"A2 {RLO}right to left override test guidance fear #NHSSM", **q(2)),
        msg(
            "m16",
            27,
            "Bea",
            "Yes! guidance on confidentiality matters #NHSSM",
            reply_to="m12",
            **q(2, "reply", 0.9),
        ),
        msg(
            "m17",
            41,
            "Dee",
            "A3 just say hello and use the hashtag https://example.org/nhs-guide #NHSSM",
            **q(3),
        ),
        msg("m18", 42, "Ivy", f"A3 {LONG_WORD} #NHSSM", **q(3)),
        msg(
            "m19",
            43,
            "Cal",
            "A1/A3 listen first, then say hello #NHSSM",
            **q(3),
            extra_questions=(1,),
        ),
        msg(
            "m20",
            44,
            "Alex Host",
            "Great answers everyone, 10 minutes left on Q3!",
            is_host=True,
            section="host",
            method="host",
        ),
        msg("m21", 50, "Jo", "I think blogging matters too https://blog.example.com/post #NHSSM"),
        msg("m22", 56, "Bea", "Thanks Alex, see you next week #NHSSM", section="wrapup"),
    ]


def previous() -> set[tuple[str, str]]:
    return {("web", "bea"), ("web", "dee"), ("web", "zed")}


def reach() -> dict[tuple[str, str], tuple[int | None, int]]:
    """Follower and media counts as Archive.reach gives them: Bea's count rose during the
    chat (the larger one counts), Cal's is known, the others' platforms gave none; the
    hidden and the deleted message's media and followers must not count."""
    return {
        ("web", "m3"): (1200, 1),
        ("web", "m6"): (1250, 0),
        ("web", "m4"): (300, 2),
        ("web", "m9"): (99999, 3),
        ("web", "m7"): (None, 4),
    }
