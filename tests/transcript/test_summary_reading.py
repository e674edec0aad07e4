"""A summary worth reading: key terms, representative answers, script time, metrics."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.archive.records import StoredMessage
from bot.transcript import build_transcript, render_markdown, write_transcript
from bot.transcript.charts import activity_svg
from bot.transcript.summary import strip_markup
from tests.transcript import sample as S


def answer(mid: str, minutes: float, who: str, text: str, n: int, **kw: Any) -> StoredMessage:
    return S.msg(mid, minutes, who, text, **S.q(n), **kw)


def chat(messages: list[StoredMessage], **session: Any):  # type: ignore[no-untyped-def]
    return build_transcript(S.session(**session), S.items(), messages)


def test_key_terms_skip_small_talk_markup_and_the_chats_own_words() -> None:
    t = chat([
        answer("a1", 6, "Ann", "A1 Great point! <b>bold</b> rota apps help #NHSSM", 1),
        answer("a2", 7, "Ben", "A1 agree, happy to share: rota apps and &amp; Q1 #NHSSM", 1),
        answer("a3", 8, "Cat", "A1 our rota app cut sickness <script>alert(1)</script>", 1),
        answer("a4", 9, "Dan", "A1 so far so great, love this chat #NHSSM", 1),
        answer("r1", 10, "Eve", "great point, happy to share far and wide", 1, reply_to="a1"),
        answer("r2", 11, "Fay", "happy share far great", 1, reply_to="a2"),
    ])
    terms = t.summary.by_number[1].key_terms
    assert "rota" in terms and "apps" in terms
    for noise in ("great", "happy", "share", "far", "agree", "bold", "alert", "script", "amp",
                  "nhssm", "q1", "a1", "chat"):
        assert noise not in terms, noise


def test_key_terms_leave_out_moderations_masks() -> None:
    # What the moderation redacted reads "[phone number removed]": not anyone's words.
    t = chat([
        answer("a1", 6, "Ann", "A1 trusted leaflets like NHS.uk ones help a lot", 1),
        answer("a2", 7, "Ben", "A1 we signpost leaflets for patients", 1),
        answer("a3", 8, "Cat", "A1 call me on 07700 900123 about it", 1,
               redacted_text="A1 call me on [phone number removed] about it"),
        answer("a4", 9, "Dan", "A1 ring 07700 900456 or 07700 900789 for the list", 1,
               redacted_text="A1 ring [phone number removed] or [Phone Number removed] "
                             "for the list [removed by a moderator: personal details]"),
    ])
    terms = t.summary.by_number[1].key_terms
    assert terms == ["leaflets"]  # the one word two people used; masks left out
    for mask_word in ("phone", "number", "removed", "moderator", "personal", "details"):
        assert mask_word not in terms, terms
    assert strip_markup("a [b] c [see](https://x.org)").split() == ["a", "[b]", "c", "see"]


def test_key_terms_are_what_is_particular_to_each_question() -> None:
    msgs = []
    for n, topic in ((1, "rota"), (2, "privacy"), (3, "mentoring")):
        for i, who in enumerate(("Ann", "Ben", "Cat", "Dan")):
            minute = 6 + (n - 1) * 20 + i
            msgs.append(answer(f"q{n}-{i}", minute, who, f"A{n} staff {topic} matters", n))
    s = chat(msgs).summary
    for n, topic in ((1, "rota"), (2, "privacy"), (3, "mentoring")):
        assert s.by_number[n].key_terms[0] == topic  # "staff" is in every question


def test_representative_answers_are_distinct_people_and_never_the_only_answer() -> None:
    lone = chat([answer("a1", 6, "Ann", "A1 we recruit on social media every week", 1)])
    assert lone.summary.by_number[1].representative == []
    t = chat([
        answer("a1", 6, "Ann", "A1 rota apps help night staff swap shifts", 1),
        answer("a2", 6.5, "Ann", "A1 rota apps help night staff swap shifts easily", 1),
        answer("a3", 7, "Ann", "A1 rota apps also help managers plan leave", 1),
        answer("a4", 8, "Ben", "A1 listening events changed our induction", 1),
        answer("a5", 9, "Cat", "A1 staff surveys shaped our wellbeing offer", 1),
        answer("a6", 10, "Dan", "A1 rota fairness matters most for night staff", 1),
    ])
    picks = t.summary.by_number[1].representative
    assert len(picks) == 3
    assert len({e.msg.author_id for e in picks}) == 3  # three voices, not Ann three times
    assert len({e.text for e in picks}) == 3


def test_rehearsal_times_are_script_time() -> None:
    # A rehearsal at pace 60: Q1 posted at 5 s (5 script minutes), answers 1 s and 2 s later.
    start = S.START
    items = [replace(i, posted_at=start + (i.posted_at - start) / 60) if i.posted_at else i
             for i in S.items()]
    msgs = [answer(f"a{i}", second / 60, who, "A1 a rehearsal answer here", 1)
            for i, (second, who) in enumerate(((6, "Ann"), (7, "Ben")))]
    t = build_transcript(S.session(rehearsal=True, pace=60.0), items, msgs)
    q1 = t.summary.by_number[1]
    assert q1.median_first_answer == 90  # 1 and 2 real seconds = 60 and 120 script seconds
    assert t.summary.script_time and t.summary.activity.counts[6] == 1
    assert "script time" in render_markdown(t)


def test_standard_metrics() -> None:
    t = chat([
        answer("a1", 6, "Ann", "A1 rota apps help", 1),
        answer("a2", 7, "Ben", "A1 listening events", 1),
        answer("r1", 8, "Ben", "Ann, which app?", 1, reply_to="a1"),
        answer("r2", 9, "Cat", "same question Ann", 1, reply_to="a1"),
        answer("r3", 10, "Ann", "replying to myself", 1, reply_to="a1"),
        answer("rt", 11, "Dan", "RT A1 rota apps help", 1, kind="retweet"),
    ])
    s = t.summary
    assert s.participants == 3 and s.messages == 5 and s.messages_per_participant == 1.7
    assert [(p.name, n) for p, n in s.top_replied] == [("Ann", 2)]  # her own reply not counted
    assert s.reposts == 1 and "RT A1" not in render_markdown(t)


def test_markdown_title_does_not_repeat_the_hashtag() -> None:
    t = chat([], title="#NHSSM: HR and social media")
    assert render_markdown(t).splitlines()[0] == "# \\#NHSSM: HR and social media"
    t = chat([], title="HR and social media")
    assert render_markdown(t).splitlines()[0] == "# HR and social media \\#NHSSM"


def test_chart_axis_reads_like_a_clock_and_files_are_readable(tmp_path: Path) -> None:
    svg = str(activity_svg([1] * 60, S.START, _zone(), title="x"))
    labels = re.findall(r'class="lbl">(\d\d:\d\d)</text>', svg)
    assert labels == ["20:00", "20:10", "20:20", "20:30", "20:40", "20:50", "21:00"]
    written = write_transcript(chat([answer("a1", 6, "Ann", "A1 hello", 1)]), tmp_path)
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in written)
    page = (tmp_path / "transcript.html").read_text("utf-8")
    assert "Activity as a table" in page and "<td>20:06</td>" in page


def test_strip_markup() -> None:
    assert strip_markup("a <b>bold</b> [guide](https://x.org/g) &amp; b").split() == [
        "a", "bold", "guide", "b"]
    assert "alert" not in strip_markup("x <script>alert(1)</script> y")


def _zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")
