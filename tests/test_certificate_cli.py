"""`tweetchat certificate` on a real archive, as a moderator runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.archive import Archive
from bot.archive.records import ItemRow
from bot.records import Author, Event, Message
from tests.test_cli import tweetchat

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def archive_with_a_chat(path: Path) -> int:
    archive = Archive(path)
    session = archive.create_session(
        chat_id="nhssm", title="#NHSSM: HR and social media", hashtag="#NHSSM",
        timezone="Europe/London", scheduled_start=T0, duration_minutes=60, platforms=["web"],
        items=[ItemRow(key="q1", number=1, text="Q1 How do you listen to staff?",
                       due_offset=300, status="sent", posted_at=T0 + timedelta(minutes=5)),
               ItemRow(key="q2", number=2, text="Q2 What would you add to the policy?",
                       due_offset=900, status="sent", posted_at=T0 + timedelta(minutes=15))],
    )
    said = [("jo1", "Jo", 7, "A1 we run listening events on every ward"),
            ("sam", "Sam", 8, "A1 staff survey, then act on it"),
            ("jo1", "Jo", 17, "A2 a line on WhatsApp groups")]
    events = []
    for i, (uid, name, minute, text) in enumerate(said):
        at = T0 + timedelta(minutes=minute)
        msg = Message("web", f"m{i}", Author("web", uid, name), text, at)
        events.append(Event("created", "web", msg.id, at, msg))
    archive.record_events(events, session_id=session, chat_id="nhssm")
    return session


def test_certificate_written_for_one_person(tmp_path: Path) -> None:
    session = archive_with_a_chat(tmp_path / "archive.db")
    run = tweetchat(tmp_path, "certificate", str(session), "web:jo1", "--out",
                    str(tmp_path / "cpd"))
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "cpd" / "certificate-jo1.html").read_text("utf-8")
    assert run.stdout.strip().endswith("certificate-jo1.html")
    assert "listening events" in page and "WhatsApp groups" in page
    assert "staff survey" not in page  # only Jo's own messages
    assert "answering 2 questions" in page and "Q1, Q2" in page
    assert (tmp_path / "cpd" / "certificate-jo1.html").stat().st_mode & 0o644 == 0o644
    by_name = tweetchat(tmp_path, "certificate", str(session), "web:JO", "--out",
                        str(tmp_path / "by-name"))  # the name the room showed, as forget takes
    assert by_name.returncode == 0, by_name.stderr
    assert (tmp_path / "by-name" / "certificate-jo1.html").read_text("utf-8") == page


def test_certificate_mistakes_are_one_line(tmp_path: Path) -> None:
    session = archive_with_a_chat(tmp_path / "archive.db")
    for args, words in [
        ((str(session), "jo1"), "write PLATFORM:USER"),
        ((str(session), "web:nobody"), "no participant in session 1 has the id, name or handle "
                                       "'web:nobody'"),
        (("999", "web:jo1"), "no session 999"),
    ]:
        run = tweetchat(tmp_path, "certificate", *args, "--out", str(tmp_path / "cpd"))
        assert run.returncode == 2 and words in run.stderr and "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
