"""`tweetchat search`: matches highlighted with styles, markers that never clash with masks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.archive import Archive, search
from bot.records import Author, Event, Message
from tests.test_cli import tweetchat

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)


def seeded(tmp_path: Path) -> Path:
    archive = Archive(tmp_path / "archive.db")
    sid = archive.create_session(
        chat_id="nhssm", title="NHS", hashtag="#NHSSM", timezone="Europe/London",
        scheduled_start=START, duration_minutes=60, platforms=["web"], items=[])

    def say(mid: str, text: str) -> Event:
        m = Message("web", mid, Author("web", "jo", "[bold]Jo[/bold]"), text, START)
        return Event("created", "web", mid, START, m)

    archive.record_events([say("1", "A4 canteen rule is a good start"),
                           say("2", "ring [red]me[/red] on 07700 900123 about the canteen")],
                          session_id=sid, chat_id="nhssm")
    archive.set_moderation_state(
        "web", "2", redacted_text="ring [red]me[/red] on [phone number removed] about the canteen")
    archive.close()
    return tmp_path


def test_hits_carry_plain_snippets_and_match_spans(tmp_path: Path) -> None:
    archive = Archive(seeded(tmp_path) / "archive.db")
    hits = {h.message_id: h for h in search(archive, "canteen")}
    archive.close()
    one = hits["1"]
    assert one.snippet == "A4 canteen rule is a good start"
    assert [one.snippet[s:e] for s, e in one.matches] == ["canteen"]
    two = hits["2"]
    assert "[phone number removed]" in two.snippet  # the mask, untouched
    assert [two.snippet[s:e] for s, e in two.matches] == ["canteen"]


def test_terminal_search_shows_the_matched_word_highlighted(tmp_path: Path) -> None:
    done = tweetchat(seeded(tmp_path), "search", "canteen", FORCE_COLOR="1", TERM="xterm")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "canteen" in out and "A4 " in out and " rule is a good start" in out
    row = next(line for line in out.splitlines() if "A4 " in line)
    before, _, after = row.partition("canteen")
    assert "\x1b[" in before[-20:] and "\x1b[" in after[:12]  # ... and off after it
    assert "[bold]Jo[/bold]" in out and "[red]me[/red]" in out  # user text is not markup
    assert "[phone number removed]" in out


def test_json_search_marks_matches_apart_from_masks(tmp_path: Path) -> None:
    done = tweetchat(seeded(tmp_path), "search", "canteen", "--json")
    assert done.returncode == 0, done.stderr
    hits = {h["message_id"]: h for h in json.loads(done.stdout)}
    two = hits["2"]
    assert "[phone number removed]" in two["snippet"] and "[canteen]" not in two["snippet"]
    assert [two["snippet"][s:e] for s, e in two["matches"]] == ["canteen"]


def test_the_web_search_marks_matches_not_masks() -> None:
    from bot.webapp.archive_pages import marked as _marked

    snippet = "ring me on [phone number removed] about the canteen"
    start = snippet.index("canteen")
    parts = _marked(snippet, [(start, start + 7)])
    assert [p for p, hit in parts if hit] == ["canteen"]
    assert "".join(p for p, _ in parts) == snippet
