"""Impressions and media in the published summary, from an imported X file to every format.

Impressions are the followers of distinct participants whose platform gave a count, each
once, labelled as a theoretical maximum reach; "not available" (null in JSON, blank in CSV)
when no platform gave one, never 0. Media are counted apart from links.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from bot.archive import Archive
from bot.platforms.x.importer import import_x
from bot.publishing import publish_session
from bot.script import load_script
from bot.transcript import build_transcript
from bot.transcript.render_csv import render_csv
from bot.transcript.render_html import render_html
from bot.transcript.render_json import render_json
from bot.transcript.render_md import render_markdown
from tests.conftest import write_script
from tests.importers.test_x_import import HOST, SCRIPT, _v2, page_lines
from tests.transcript import sample as S

LABEL = "theoretical maximum reach, not views"


def _with_followers(user: dict[str, str], followers: int) -> dict[str, Any]:
    return {**user, "public_metrics": {"followers_count": followers, "following_count": 1,
                                       "tweet_count": 10, "listed_count": 0}}


def test_an_imported_x_chat_reports_impressions_and_media(tmp_path: Path) -> None:
    script = load_script(write_script(tmp_path / "chats", SCRIPT, chat_id="nhssm"))
    ann = {"id": "101", "username": "ann", "name": "Ann"}
    ben = {"id": "102", "username": "ben", "name": "Ben"}
    cy = {"id": "103", "username": "cy", "name": "Cy"}  # X gave no count for her
    tweets = [
        _v2(1000, HOST, "Welcome to #NHSSM.", 0),
        _v2(2000, HOST, "Q1 What helps you switch off? #NHSSM", 10),
        _v2(2100, ann, "A1 a walk https://example.org/walks #NHSSM", 12,
            attachments={"media_keys": ["3_1", "3_2"]}),
        _v2(2200, ben, "A1 music #NHSSM", 13, attachments={"media_keys": ["3_3"]}),
        _v2(2300, ann, "A1 and tea #NHSSM", 14),
        _v2(2400, cy, "A1 reading #NHSSM", 15),
    ]
    users = [_with_followers(HOST, 50_000), _with_followers(ann, 1_200),
             _with_followers(ben, 340), cy]
    path = tmp_path / "chat.jsonl"
    path.write_bytes(b"\n".join(page_lines(tweets, users, per_page=3)) + b"\n")
    archive = Archive(tmp_path / "archive.db")
    report = import_x(archive, path, script)
    published = publish_session(archive, report.sessions[0], tmp_path / "transcripts")
    out = published.directory
    archive.close()

    summary = orjson.loads((out / "transcript.json").read_bytes())["summary"]
    # Ann once (two messages), Ben; the host's 50,000 and Cy's missing count are not in it.
    assert (summary["impressions"], summary["impressions_people"]) == (1_540, 2)
    assert summary["participants"] == 3 and summary["impressions_note"] == LABEL
    assert summary["media"] == 3 and sum(link["count"] for link in summary["links"]) == 1
    html = (out / "transcript.html").read_text("utf-8")
    assert f"Impressions: {LABEL}</dt><dd>1,540</dd>" in html
    assert "Media shared (images, videos, files)</dt><dd>3</dd>" in html
    md = (out / "transcript.md").read_text("utf-8")
    assert f"Impressions ({LABEL}): 1,540, the followers of 2 of 3 participants" in md
    rows = list(csv.DictReader(io.StringIO((out / "transcript.csv").read_text("utf-8"))))
    by_id = {r["id"]: r for r in rows}
    assert (by_id["2100"]["media"], by_id["2100"]["author_followers"]) == ("2", "1200")
    assert by_id["2400"]["author_followers"] == ""  # unknown is blank, never 0


def test_without_follower_counts_impressions_are_not_available_never_zero() -> None:
    t = build_transcript(S.session(), S.items(), S.messages())  # web and Discord: no counts
    assert t.summary.impressions is None and t.summary.media == 0
    summary = orjson.loads(render_json(t))["summary"]
    assert summary["impressions"] is None and summary["impressions_note"] == LABEL
    md = render_markdown(t)
    assert f"Impressions ({LABEL}): not available" in md
    html = render_html(t)
    assert f"Impressions: {LABEL}</dt><dd>not available</dd>" in html
    assert "no platform in this chat reported follower counts" in html
    rows = list(csv.DictReader(io.StringIO(render_csv(t))))
    assert {r["author_followers"] for r in rows} == {""}
