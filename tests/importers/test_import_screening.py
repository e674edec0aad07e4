"""Every import is screened as live chats are: in every public output, on every platform.

A leak of five identifiers is masked, abuse is held, a crisis is a review item (no signpost:
the chat is over), display names are screened, and a clean message is stored as it was.
Importing again adds no review item and undoes no moderator's decision.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.archive.search import search
from bot.moderation import decide_sync, review_queue
from bot.moderation.imported import CRISIS_NOTE
from bot.moderation.policy import parse_policy
from bot.publishing import attributed_transcript
from bot.transcript.certificate import render_certificate
from bot.transcript.render_csv import render_csv
from bot.transcript.render_html import render_html
from bot.transcript.render_json import render_json
from bot.transcript.render_md import render_markdown
from tests.importers.screening_inputs import (
    ABUSE,
    BIDI_NAME,
    CHATS,
    CHECKS,
    CLEAN,
    CRISIS,
    LEAK,
    MASKS,
    NEEDLES,
    Chat,
)

PLATFORMS = sorted(CHATS)


@pytest.fixture
def archive(tmp_path: Path) -> Any:
    a = Archive(tmp_path / "archive.db")
    yield a
    a.close()


def outputs(archive: Archive) -> dict[str, str]:
    """Every public output of the session: four transcript formats, certificates, search."""
    (session,) = [s for s in archive.sessions() if s.status != "planned"] or archive.sessions()
    t = attributed_transcript(archive, session)
    found = {"html": render_html(t), "md": render_markdown(t), "json": render_json(t).decode(),
             "csv": render_csv(t)}
    for person in t.participants:
        if not person.is_host:
            found[f"certificate {person.name}"] = render_certificate(t, person)
    for word in ("patient", "Jones", "kill", "idiot", "walk"):
        found[f"search {word}"] = repr([hit.__dict__ for hit in search(archive, word)])
    return found


def message(archive: Archive, text: str) -> dict[str, Any]:
    """The stored row of the message written as `text`."""
    row = archive.db.execute(
        "select text, public_text, hidden, held, redacted_text, author_name, platform, id "
        "from messages where text like ?", [text + "%"]).fetchone()
    keys = ("text", "public_text", "hidden", "held", "redacted_text", "author_name",
            "platform", "id")
    return dict(zip(keys, row, strict=True))


def events(archive: Archive) -> list[tuple[Any, ...]]:
    return archive.db.execute(
        "select platform, message_id, check_name, spans, status, actor from moderation_events "
        "order by id").fetchall()


def dump(archive: Archive) -> list[list[Any]]:
    """The messages and moderation events as stored (what a re-import must leave alone)."""
    return [list(r) for r in archive.db.execute(
        "select platform, id, text, public_text, hidden, held, redacted_text, author_name "
        "from messages order by platform, id")] + [list(e) for e in events(archive)]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_import_is_screened_in_every_output(platform: str, tmp_path: Path,
                                               archive: Archive) -> None:
    chat: Chat = CHATS[platform](tmp_path)
    report = chat.load(archive)
    assert report.flagged == 3 and len(report.sessions) == 1

    for name, body in outputs(archive).items():
        leaked = [n for n in NEEDLES if n in body]
        assert not leaked, f"{name} shows {leaked}"
        assert "\u202e" not in body, f"{name} keeps a bidi override"
        assert "fucking" not in body, f"{name} shows the held message"
    leak = message(archive, LEAK)
    assert all(mask in leak["public_text"] for mask in MASKS)
    assert leak["text"].startswith(LEAK)  # the original is kept, never published
    assert message(archive, ABUSE)["held"] == 1 and message(archive, ABUSE)["public_text"] == ""
    crisis = message(archive, CRISIS)
    assert crisis["public_text"] == crisis["text"] and not crisis["held"]  # never silenced
    clean = message(archive, CLEAN)
    assert clean["public_text"] == clean["text"] and clean["redacted_text"] is None

    queue = review_queue(archive)
    assert sorted(i.check for i in queue) == CHECKS
    assert {i.session_id for i in queue} == set(report.sessions)
    (alert,) = [i for i in queue if i.check == "crisis"]
    assert alert.reason.endswith(CRISIS_NOTE) and alert.text == crisis["text"]
    assert {e[5] for e in events(archive)} == {"import"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_display_names_are_screened(platform: str, tmp_path: Path, archive: Archive) -> None:
    CHATS[platform](tmp_path).load(archive)
    names = {message(archive, text)["author_name"] for text in (LEAK, ABUSE, CRISIS, CLEAN)}
    assert names == {"Bed 4 Mrs Jones [NHS number removed]", "Ben", "Moderator (participant)",
                     "Ann exe.gnp"}
    stored = {r[0] for r in archive.db.execute("select name from participants")}
    assert "Bed 4 Mrs Jones [NHS number removed]" in stored and BIDI_NAME not in stored


@pytest.mark.parametrize("platform", PLATFORMS)
def test_importing_again_adds_no_item_and_keeps_decisions(platform: str, tmp_path: Path,
                                                          archive: Archive) -> None:
    chat = CHATS[platform](tmp_path)
    chat.load(archive)
    now = datetime.now(UTC)
    by_check = {i.check: i for i in review_queue(archive)}
    decide_sync(archive, by_check["abuse"].event_id, "approve", "sam", now)  # shown after all
    decide_sync(archive, by_check["phone"].event_id, "restore", "sam", now)  # unmasked
    decided = dump(archive)
    assert message(archive, ABUSE)["public_text"] == message(archive, ABUSE)["text"]

    again = chat.load(archive)
    assert again.changed == 0
    assert dump(archive) == decided
    assert Counter(i.check for i in review_queue(archive)) == Counter(
        c for c in CHECKS if c not in ("abuse", "phone", "nhs_number", "dob", "email",
                                       "postcode"))


def test_moderation_off_screens_no_message_but_still_cleans_names(tmp_path: Path,
                                                                  archive: Archive) -> None:
    off = parse_policy("[moderation]\nenabled = false\n")
    report = CHATS["discord"](tmp_path).load(archive, policy=off)
    assert report.flagged == 0 and review_queue(archive) == []
    assert message(archive, LEAK)["public_text"].startswith(LEAK)
    assert message(archive, CLEAN)["author_name"] == "Ann exe.gnp"


def test_a_policy_that_holds_identifiers_is_followed(tmp_path: Path, archive: Archive) -> None:
    strict = parse_policy('[checks.phone]\naction = "hold"\n')
    CHATS["x"](tmp_path).load(archive, policy=strict)
    leak = message(archive, LEAK)
    assert leak["held"] == 1 and leak["public_text"] == ""


def test_an_edited_tweet_is_screened_on_its_newest_text(tmp_path: Path, archive: Archive) -> None:
    from bot.platforms.x.importer import import_x
    from tests.importers.test_x_import import HOST, _v2, page_lines

    chat = CHATS["x"](tmp_path)
    ann = {"id": "300", "username": "ann", "name": "Ann \u202eexe"}
    first = _v2(2800, ann, "A1 first go #NHSSM", 11, edit_history_tweet_ids=["2800"])
    newest = _v2(2801, ann, "A1 call me on 07911 123456 #NHSSM", 12,
                 edit_history_tweet_ids=["2800", "2801"])
    path = tmp_path / "edited.jsonl"
    path.write_bytes(chat.path.read_bytes() + b"\n".join(page_lines([first, newest],
                                                                    [HOST, ann])) + b"\n")
    report = import_x(archive, path, chat.script)
    edited = message(archive, "A1 call me")
    assert edited["public_text"] == "A1 call me on [phone number removed] #NHSSM"
    assert edited["author_name"] == "Ann exe" and report.flagged == 4
    assert [i.message_id for i in review_queue(archive) if i.check == "phone"].count(
        edited["id"]) == 1
    before = dump(archive)
    import_x(archive, path, chat.script)
    assert dump(archive) == before
