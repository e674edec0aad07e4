"""Chats hosted the way real hosts write: tag styles, co-hosts, follow-ups, repeats."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.importers.matching import match_items, question_label, similarity
from bot.platforms.discord.importer import import_discord
from bot.platforms.x.importer import import_x
from bot.script import ChatScript, load_script
from bot.testing.real_chats import (
    CLOSING,
    QUESTIONS,
    SCRIPT_YAML,
    START,
    STYLES,
    WELCOME,
    make_chat,
    write_discord,
    write_x,
)
from bot.transcript import build_transcript
from bot.transcript.model import Transcript
from bot.transcript.render_csv import render_csv
from bot.transcript.render_html import render_html
from bot.transcript.render_json import render_json
from bot.transcript.render_md import render_markdown
from tests.conftest import write_script


@dataclass(frozen=True)
class HostPost:
    id: str
    text: str
    created: datetime


@pytest.fixture
def script(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats", SCRIPT_YAML))


@pytest.mark.parametrize(("text", "number"), [
    ("**Q1** How does", 1), ("__Q2__ How", 2), ("*Q3* How", 3), ("Q4: How", 4),
    ("Q5. How", 5), ("Q 6 How", 6), ("Question 7: How", 7), ("Q8/10 How", 8),
    ("#NHSSM Q9 How", 9), ("@jo Q2 How", 2), ("> **Question 3** How", 3),
    ("Great answers to Q1 so far", None), ("Q10x", None), ("How does Q1 go", None),
])
def test_question_labels_as_hosts_write_them(text: str, number: int | None) -> None:
    assert question_label(text) == number


def test_topic_chats_read_t_labels() -> None:
    assert question_label("**T2** Next topic", "T") == 2
    assert question_label("Topic 3: rotas", "T") == 3
    assert question_label("Q1 ...", "T") is None


def test_similarity_is_the_share_of_scripted_words_used() -> None:
    assert similarity(QUESTIONS[0], "Q1 " + QUESTIONS[0]) == 1.0
    assert similarity("thanks all", QUESTIONS[0]) < 0.2


def import_chat(tmp_path: Path, script: ChatScript, style: str, *, threads: bool = False
                ) -> tuple[Archive, int, dict[int, int | None]]:
    chat = make_chat(style, threads=threads)
    archive = Archive(tmp_path / "archive.db")
    report = import_discord(archive, write_discord(chat, tmp_path), script)
    assert len(report.sessions) == 1
    return archive, report.sessions[0], chat.expected


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_tag_style_places_the_answers(tmp_path: Path, script: ChatScript, style: str
                                            ) -> None:
    archive, sid, expected = import_chat(tmp_path, script, style)
    items = {i.key: i for i in archive.items(sid)}
    assert all(items[f"q{n}"].status == "sent" for n in range(1, 5)), style
    got = {m.id: m for m in archive.messages(sid)}
    wrong = [(i, q, got[str(i)].question) for i, q in expected.items()
             if q is not None and got[str(i)].question != q]
    assert wrong == []
    # The host's and the co-host's own posts are host messages, never a participant's.
    hosts = [m for m in got.values() if m.author_id in ("1", "2")]
    assert hosts and all(m.is_host and m.section == "host" for m in hosts)
    assert not [m for m in got.values() if m.is_host and m.author_id not in ("1", "2")]


def test_answers_inside_question_threads(tmp_path: Path, script: ChatScript) -> None:
    archive, sid, expected = import_chat(tmp_path, script, "bold", threads=True)
    got = {m.id: m.question for m in archive.messages(sid)}
    assert all(got[str(i)] == q for i, q in expected.items() if q is not None)


def test_the_repeat_for_latecomers_is_a_host_post_not_q1(tmp_path: Path, script: ChatScript
                                                          ) -> None:
    chat = make_chat("bold")
    posts = [p for p in chat.host_posts if p.author == "bot"]

    as_sent = [HostPost(str(p.id), p.text, START + timedelta(minutes=p.minute)) for p in posts]
    matched = match_items(script.timeline(), as_sent)
    assert matched["q1"].id == str(chat.question_posts[1])
    assert "again" not in matched["q1"].text
    assert matched["welcome"].text.startswith("Hello everyone")
    assert matched["close"].text.startswith("That's all")


def transcript_of(archive: Archive, sid: int) -> Transcript:
    return build_transcript(archive.session(sid), archive.items(sid), archive.messages(sid))


def test_every_message_is_in_the_csv_and_json_with_its_kind(
    tmp_path: Path, script: ChatScript
) -> None:
    archive, sid, _ = import_chat(tmp_path, script, "bold")
    chat = make_chat("bold")
    t = transcript_of(archive, sid)
    rows = list(csv.DictReader(io.StringIO(render_csv(t))))
    assert {r["id"] for r in rows} == {str(p.id) for p in chat.posts}
    kinds = {r["id"]: r["kind"] for r in rows}
    assert {p.id: p.kind for p in chat.posts} == {int(i): k for i, k in kinds.items()}
    doc = json.loads(render_json(t))
    in_json: set[str] = set()

    def walk(messages: list[dict[str, Any]]) -> None:
        for m in messages:
            in_json.add(m["id"])
            walk(m.get("replies", []))

    for block in (doc["welcome"], *doc["questions"], doc["wrapup"]):
        walk(block["posts"])
        walk(block.get("messages", block.get("answers", [])))
    walk(doc["unplaced"])
    assert in_json == {str(p.id) for p in chat.posts}
    # 0 host posts counted as a participant's.
    host_ids = {"1", "2"}
    assert not [p for p in t.participants if p.author_id in host_ids and not p.is_host]
    assert t.summary.host_messages == sum(1 for p in chat.posts if p.kind == "host")


def test_the_transcript_shows_what_the_host_posted(tmp_path: Path, script: ChatScript) -> None:
    archive, sid, _ = import_chat(tmp_path, script, "plain")
    md = render_markdown(transcript_of(archive, sid))
    assert "Hello everyone and welcome!" in md and "That's all for tonight, thank you!" in md
    assert WELCOME not in md  # the script's own welcome was never posted


def test_a_scripted_item_never_posted_is_not_shown_as_posted(
    tmp_path: Path, script: ChatScript
) -> None:
    chat = make_chat("plain")
    close = next(p for p in chat.posts if p.kind == "close")
    chat.posts.remove(close)
    chat.posts[:] = [p for p in chat.posts if p.minute < 39]  # Q4 never went out either
    archive = Archive(tmp_path / "archive.db")
    sid = import_discord(archive, write_discord(chat, tmp_path), script).sessions[0]
    t = transcript_of(archive, sid)
    md = render_markdown(t)
    assert CLOSING not in md and "Not posted." in md
    assert not t.wrapup.posted and not t.questions[3].posted and t.questions[0].posted
    assert "Not posted." in render_html(t)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_x_chats_whatever_the_tag_style(tmp_path: Path, script: ChatScript, style: str) -> None:
    """The host threads the questions under the welcome, as hosts do on X."""
    chat = make_chat(style)
    facts = write_x(chat, tmp_path / "tweets.jsonl")
    archive = Archive(tmp_path / "archive.db")
    (sid,) = import_x(archive, tmp_path / "tweets.jsonl", script).sessions
    got = {m.id: m for m in archive.messages(sid)}
    wrong = [(i, q, got[str(i)].question) for i, q in chat.expected.items()
             if q is not None and got[str(i)].question != q]
    assert wrong == []
    assert facts["retweet"] not in got and str(int(facts["edited"]) + 500_000) not in got
    assert got[facts["edited"]].edited is not None
    shown = [e.text for e in transcript_of(archive, sid).every_message()]
    assert not [t for t in shown if "&amp;" in t or "https://t.co/" in t]
    assert any("& rotas <3" in t for t in shown)
    assert any(t.count("because confidentiality matters") == 12 for t in shown)  # note_tweet
