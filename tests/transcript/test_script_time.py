"""A paced rehearsal's transcript reads like the chat it stands for: every time shown is
script time (header length, activity chart, each message, the host's posts), in the HTML,
the Markdown, the JSON and the CSV, through the path the publisher takes (texts read ahead)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from bot.transcript import render_csv, render_html, render_json, render_markdown
from bot.transcript.build import assemble, item_post_ids, shown_clock
from bot.transcript.model import Transcript
from bot.transcript.read_ahead import read_ahead
from bot.transcript.sources import MemorySource
from tests.transcript import sample as S

# Started 35 s past the minute: the seconds must not be multiplied by the pace.
START = S.START + timedelta(seconds=35)


def real(pace: float, script_minutes: float) -> timedelta:
    """How long after the start a script minute happens in a rehearsal at `pace`."""
    return timedelta(minutes=script_minutes) / pace


def rehearsal(pace: float) -> Transcript:
    """An hour's script rehearsed at `pace`: Q1 at script minute 5, answers at 8 and 9,
    a host's remark at 10, the close at 55, ended at 60."""
    session = S.session(rehearsal=True, pace=pace, scheduled_start=START, started_at=START,
                        ended_at=START + real(pace, 60))
    items = [replace(i, posted_at=START + real(pace, i.due_offset / 60)) for i in S.items()]

    def said(mid: str, minute: float, who: str, text: str, **kw: object) -> StoredMessage:
        return replace(S.msg(mid, 0, who, text, **kw), created=START + real(pace, minute))

    messages = [
        said("w-q1", 5, "Alex Host", "Q1 How do you use social media at work? #NHSSM",
             is_host=True, section="host", method="host"),  # the stored post of Q1
        said("a1", 8, "Ann", "A1 we use it for recruitment", **S.q(1)),
        said("a2", 9, "Ben", "A1 ward news mostly", **S.q(1)),
        said("h1", 10, "Alex Host", "Lovely answers so far", is_host=True, section="host",
             method="host"),
    ]
    return _as_published(session, items, messages)


def _as_published(session: SessionRow, items: list[ItemRow],
                  messages: list[StoredMessage]) -> Transcript:
    """As the publisher builds it: the texts and CSV cells read ahead, then assembled."""
    post_keys = item_post_ids(items)
    made = read_ahead(messages, post_keys, session.hashtag, shown_clock(session))
    return assemble(session, items, MemorySource(messages, post_keys), ahead=lambda: made)


@pytest.mark.parametrize("pace", [60.0, 120.0])
def test_every_time_of_a_paced_rehearsal_is_script_time(pace: float) -> None:
    t = rehearsal(pace)
    doc = json.loads(render_json(t))
    assert doc["session"]["length_minutes"] == 60
    assert doc["summary"]["script_time"] is True
    activity = doc["summary"]["activity"]
    assert activity["origin"].startswith("2026-01-07T20:00:00")
    per_minute = activity["per_minute"]
    assert len(per_minute) == 60  # the hour, not 65 or 79 minutes
    assert {i: n for i, n in enumerate(per_minute) if n} == {8: 1, 9: 1, 10: 1}
    q1 = doc["questions"][0]
    assert [m["local_time"][11:16] for m in q1["answers"]] == ["20:08", "20:09", "20:10"]
    assert [p["local_time"][11:16] for p in q1["posts"]] == ["20:05"]
    assert q1["stats"]["median_first_answer_seconds"] == pytest.approx(3.5 * 60)  # 3 and 4 min

    md = render_markdown(t)
    assert "Wednesday 7 January 2026, 20:00 GMT (Europe/London), 1 hour" in md
    assert "**Ann** @ann (20:08, web)" in md and "(20:10, host, web)" in md
    assert "**Alex Host**, host (20:55): Thanks all!" in md  # the close, script minute 55
    assert "Busiest minute: 20:08, 1 message." in md

    html = render_html(t)
    assert "· 1 hour</p>" in html
    assert re.search(r"Posted <time [^>]*>20:05</time>", html)
    times = re.findall(r'<time datetime="[^"]*">(\d\d:\d\d)</time>', html)
    assert {"20:08", "20:09", "20:10"} <= set(times)
    assert all(hm < "21:00" for hm in times)  # nothing beyond the hour
    assert "busiest minute 20:08" in html

    rows = list(csv.DictReader(io.StringIO(render_csv(t))))
    assert sorted(r["local_time"][11:16] for r in rows) == ["20:05", "20:08", "20:09", "20:10"]


def test_a_live_session_keeps_real_times() -> None:
    t = rehearsal(60.0)
    live = replace(t.session, rehearsal=False, pace=1.0, ended_at=START + timedelta(hours=1))
    shown = _as_published(live, list(t.items), [
        replace(S.msg("a1", 0, "Ann", "A1 hi", **S.q(1)), created=START + timedelta(seconds=8))])
    doc = json.loads(render_json(shown))
    assert doc["session"]["length_minutes"] == 60
    assert doc["summary"]["script_time"] is False
    assert doc["questions"][0]["answers"][0]["local_time"][11:19] == "20:00:43"
    assert doc["summary"]["activity"]["per_minute"][0] == 1
