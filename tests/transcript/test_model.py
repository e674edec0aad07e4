"""The transcript model and its summary, from fixed data."""

from __future__ import annotations

import heapq
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.transcript import build_transcript
from bot.transcript.model import MAX_DEPTH, Entry, Transcript, _merged
from tests.transcript import sample as S
from tests.transcript import walk


def build(**kw: object) -> Transcript:
    kw.setdefault("previous_participants", S.previous())
    return build_transcript(S.session(), S.items(), S.messages(), **kw)  # type: ignore[arg-type]


def ids(entries: object) -> list[str]:
    return [e.msg.id for e in entries]  # type: ignore[attr-defined]


def test_sections_and_placement() -> None:
    t = build()
    assert ids(walk.messages(t, t.welcome)) == ["m1", "m2"]
    assert [b.label for b in t.questions] == ["Q1", "Q2", "Q3"]
    assert ids(walk.answers(t, t.questions[0])) == ["m3", "m4", "m8", "d1"]
    assert ids(walk.answers(t, t.questions[1])) == ["m11", "m12", "m13", "m14", "m15"]
    # The host's commentary lands in the question live at the time, marked as host.
    assert ids(walk.answers(t, t.questions[2])) == ["m17", "m18", "m19", "m20"]
    assert walk.answers(t, t.questions[2])[-1].msg.is_host
    assert ids(walk.messages(t, t.wrapup)) == ["m22"]
    assert ids(walk.messages(t, t.unplaced)) == ["m21"]
    # The stored copy of the scripted Q1 post is the heading, not a message.
    assert "w-q1" not in ids(walk.entries(t))


def test_removed_messages_are_left_out() -> None:
    t = build()
    shown = set(ids(walk.entries(t)))
    assert not shown & {"m7", "m9", "m10"}
    assert len(walk.entries(t)) == 20


def test_reply_trees() -> None:
    t = build()
    q1 = {e.msg.id: e for e in walk.messages(t, t.questions[0])}
    assert ids(walk.replies(t, q1["m3"])) == ["m5"]
    assert ids(walk.replies(t, q1["m5"])) == ["m6"]
    assert [q1[k].depth for k in ("m3", "m5", "m6")] == [0, 1, 2]
    assert q1["m3"].reply_count == 2 and q1["m5"].reply_count == 1
    # A reply to a deleted answer is still shown, attached to the question.
    assert q1["m8"].depth == 0 and q1["m8"].parent_removed
    q2 = {e.msg.id: e for e in walk.messages(t, t.questions[1])}
    assert ids(walk.replies(t, q2["m12"])) == ["m16"]


def test_reply_to_message_under_another_question_says_whom_it_answers() -> None:
    msgs = S.messages() + [
        S.msg("x1", 30, "Kim", "A2 building on Bea's A1 #NHSSM", reply_to="m3", **S.q(2))
    ]
    t = build_transcript(S.session(), S.items(), msgs)
    x1 = next(e for e in walk.answers(t, t.questions[1]) if e.msg.id == "x1")
    assert x1.reply_to_name == "Bea" and x1.depth == 0
    # It still counts as engagement for the message it answers.
    assert next(e for e in walk.entries(t) if e.msg.id == "m3").reply_count == 3


def test_engaged_order() -> None:
    t = build(order="engaged")
    assert ids(walk.answers(t, t.questions[1]))[:2] == ["m11", "m12"]  # 3 reactions, then 1 reply
    timed = build()
    engaged = walk.answers(t, t.questions[0])
    assert sorted(ids(engaged)) == sorted(ids(walk.answers(timed, timed.questions[0])))
    assert [e.engagement for e in engaged] == sorted((e.engagement for e in engaged), reverse=True)


def test_summary_numbers() -> None:
    s = build(moderation_counts={"hidden": 1, "redacted": 1, "deleted": 0}).summary
    assert s.messages == 20
    assert s.participants == 8  # Bea Cal Dee Finn Hana Eve Ivy Jo; the host is not counted
    assert (s.returning_participants, s.new_participants) == (2, 6)  # Bea and Dee were here
    assert s.host_messages == 1
    q1, q2, q3 = s.questions
    # Q1: six own answers plus Cal's "A1/A3" placed under Q3.
    assert (q1.answers, q1.participants) == (7, 5)
    assert (q2.answers, q2.participants) == (6, 5)
    assert (q3.answers, q3.participants) == (3, 3)
    # First-answer delays per person: Q1 1,2,3,6,9 min; Q2 1,2,4,5,6; Q3 1,2,3.
    assert (q1.median_first_answer, q2.median_first_answer, q3.median_first_answer) == (
        180,
        240,
        120,
    )
    assert ids(q1.most_engaged) == ["m3", "m4", "m5"]  # all 2: replies + reactions, then time
    assert s.links == [("https://example.org/nhs-guide", 2), ("https://blog.example.com/post", 1)]
    assert s.top_contributors[0][0].name == "Bea" and s.top_contributors[0][1] == 6
    assert s.moderation == [("hidden", 1), ("redacted", 1)]
    assert sum(s.activity.counts) == 20 and len(s.activity.counts) == 60
    assert s.activity.counts[6] == 1 and s.activity.busiest() == (1, 1)


def test_key_terms_and_representative_answers() -> None:
    s = build().summary
    q1, q2, _ = s.questions
    for q in s.questions:
        assert "nhssm" not in q.key_terms
        assert not any(w in {"a1", "a2", "a3", "the", "and"} for w in q.key_terms)
        assert all(len(w) <= 40 for w in q.key_terms)
    # From top-level answers only: "recruit" (in Dee's reply) is not a key term of Q1.
    assert {"news", "listening"} <= set(q1.key_terms) and "recruit" not in q1.key_terms
    assert {"fear", "guidance"} <= set(q2.key_terms)
    assert 2 <= len(q2.representative) <= 3
    # Picks are distinct answers of the question.
    assert len(set(ids(q2.representative))) == len(q2.representative)
    assert set(ids(q2.representative)) <= {"m11", "m12", "m13", "m14", "m15", "m16"}


def test_participants_view() -> None:
    t = build()
    bea = next(p for p in t.participants if p.name == "Bea")
    assert ids(walk.of(t, bea)) == ["m1", "m3", "m6", "m11", "m16", "m22"]
    assert bea.returning
    host = next(p for p in t.participants if p.is_host)
    assert not host.returning and ids(walk.of(t, host)) == ["m20"]


def test_deep_reply_chain_is_capped_without_recursion() -> None:
    chain = [S.msg("c0", 6, "P0", "A1 start #NHSSM", **S.q(1))]
    chain += [
        S.msg(f"c{i}", 6 + i / 1000, f"P{i % 7}", f"reply {i}", reply_to=f"c{i - 1}", **S.q(1))
        for i in range(1, 5000)
    ]
    t = build_transcript(S.session(), S.items(), chain)
    root = walk.answers(t, t.questions[0])[0]
    assert root.reply_count == 4999
    assert max(e.depth for e in walk.entries(t)) == MAX_DEPTH
    assert sum(1 for _ in t.thread(root.block)) == 5000


def test_tag_style_t_rehearsal_and_empty_session() -> None:
    t = build_transcript(S.session(tag_style="T", rehearsal=True), S.items(), [])
    assert [b.label for b in t.questions] == ["T1", "T2", "T3"]
    assert t.summary.messages == 0 and t.summary.questions[0].median_first_answer is None
    assert t.summary.questions[0].representative == []


def test_retweets_and_duplicates() -> None:
    m = S.messages()
    rt = replace(m[3], id="rt1", kind="retweet", text="RT @bea: " + m[3].text)
    t = build_transcript(S.session(), S.items(), [*m, rt, m[3]])
    assert "rt1" not in ids(walk.entries(t)) and len(walk.entries(t)) == 20


def test_unknown_time_zone_falls_back_to_utc() -> None:
    t = build_transcript(S.session(timezone="Mars/Olympus"), S.items(), S.messages())
    assert t.local_start.utcoffset() is not None and t.local_start.utcoffset().total_seconds() == 0


def test_local_times_follow_daylight_saving() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.transcript.build import _LocalTime

    london = ZoneInfo("Europe/London")
    to_local = _LocalTime(london)
    # Clocks go forward at 01:00 UTC on 29 March 2026: walk minute by minute across it.
    start = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    for minute in range(0, 240, 7):
        when = start + timedelta(minutes=minute, seconds=13)
        fast, exact = to_local(when), when.astimezone(london)
        assert (fast.replace(tzinfo=None), fast.utcoffset(), fast.tzname()) == (
            exact.replace(tzinfo=None),
            exact.utcoffset(),
            exact.tzname(),
        )
    summer = build_transcript(
        S.session(scheduled_start=datetime(2026, 7, 1, 19, 0, tzinfo=UTC)), S.items(), []
    )
    assert summer.local_start.hour == 20 and summer.local_start.tzname() == "BST"


def _entries(keys: list[tuple[int, str, str]]) -> list[Entry]:
    ordered = sorted(keys)
    return [Entry(i, S.msg(mid, minute, "Ann", "hi", platform=platform), "hi", S.at(minute))
            for i, (minute, platform, mid) in enumerate(ordered)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["web", "x"]),
                          st.sampled_from(["a", "b", "c"])), max_size=12),
       st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["web", "x"]),
                          st.sampled_from(["a", "b", "c"])), max_size=4))
def test_posts_merge_into_time_order_as_heapq_merges_them(
        messages: list[tuple[int, str, str]], posts: list[tuple[int, str, str]]) -> None:
    """Ties included (same time, or same key): the scripted post comes first, as before."""
    shown, scripted = _entries(messages), _entries(posts)
    want = heapq.merge(scripted, shown, key=lambda e: (e.msg.created, e.msg.platform, e.msg.id))
    assert [id(e) for e in _merged(scripted, iter(shown))] == [id(e) for e in want]
