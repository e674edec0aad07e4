"""The crisis check: the detector on its labelled corpus, and the engine's private signpost."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.crisis import detect_crisis
from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import DEFAULT_SIGNPOST, Policy, parse_policy
from bot.moderation.scan import scan_lines
from tests.moderation.test_engine import T0, Chat, FakePlatform

CORPUS = Path(__file__).with_name("crisis_corpus.jsonl")
HELD_OUT = Path(__file__).with_name("crisis_heldout.jsonl")


def _rows(path: Path = CORPUS) -> list[dict]:
    return [orjson.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_held_out_round_is_new_wording() -> None:
    """The held-out round shares no line with the corpus the rules were made from."""
    held = _rows(HELD_OUT)
    assert len(held) >= 60 and {r["round"] for r in held} == {9}
    assert {r["text"] for r in held}.isdisjoint({r["text"] for r in _rows()})
    assert max(r["round"] for r in _rows()) < 9


def test_corpus_is_large_and_balanced() -> None:
    rows = _rows()
    at_risk = [r for r in rows if r["at_risk"]]
    assert len(rows) >= 300 and len(at_risk) >= 120 and len(rows) - len(at_risk) >= 150
    assert len({r["text"] for r in rows}) == len(rows)  # no line twice


def test_corpus_precision_and_recall() -> None:
    """Targets: recall >= 95% (a missed person matters most), precision >= 90%."""
    tp = fp = fn = 0
    for row in _rows():
        hit = bool(detect_crisis(row["text"]))
        tp += hit and row["at_risk"]
        fp += hit and not row["at_risk"]
        fn += (not hit) and row["at_risk"]
    assert tp / (tp + fn) >= 0.95
    assert tp / (tp + fp) >= 0.90


@pytest.mark.parametrize(("text", "at_risk"), [
    ("I can't go on", True),
    ("i cant go on anymore", True),
    ("I don\u2019t want to be here any more", True),
    ("everyone would be better off without me", True),
    ("A3 I've been feeling suicidal since the inquest #NHSSM", True),
    ("this rota is killing me", False),
    ("I could kill for a coffee", False),
    ("suicide prevention training should be mandatory", False),
    ('our poster says "If you are having thoughts of suicide, call 116 123"', False),
    ("a patient told me she wanted to die", False),
    ("I'm not suicidal, just tired", False),
    ("I can't go on Twitter at work", False),
    ("I'm so done with life", True),
    ("nobody would care if I died", True),
    ("I used to want to die every day; therapy changed that", False),
    ("five years ago I wanted to die; today I ran a half marathon", False),
    ("my brother has been suicidal and the crisis team were amazing", False),
    ("I'm going to kill myself if this webinar freezes again", False),
    ("as a patient on this ward I just want to end it", True),
    ("I'm a mental health nurse and I assess people who want to die", False),
])
def test_who_is_speaking(text: str, at_risk: bool) -> None:
    assert bool(detect_crisis(text)) is at_risk


def test_span_names_the_phrase() -> None:
    text = "A2 honestly, I want to die some nights"
    (finding,) = detect_crisis(text)
    assert finding.check == "crisis" and text[finding.start:finding.end] == "I want to die"


@given(st.text(max_size=400))
def test_any_text_gives_spans_inside_it(text: str) -> None:
    for f in detect_crisis(text):
        assert 0 <= f.start < f.end <= len(text) and text[f.start:f.end] == f.matched


def test_policy_has_crisis_on_by_default_and_text_is_configurable() -> None:
    check = Policy.default().checks["crisis"]
    assert check.action == "flag" and check.options["signpost"] == DEFAULT_SIGNPOST
    for number in ("999", "111", "116 123", "85258"):
        assert number in DEFAULT_SIGNPOST
    custom = parse_policy('[checks.crisis]\nsignpost = "Call 116 123."\n')
    assert custom.checks["crisis"].options["signpost"] == "Call 116 123."
    assert "crisis" not in parse_policy("[checks.crisis]\nenabled = false\n").checks


def test_scan_shows_the_check() -> None:
    (row,) = scan_lines(["A1 I can't go on"], only_matches=True)
    assert row["checks"] == ["crisis"] and row["action"] == "flag" and row["redacted"] is None


async def test_engine_signposts_privately_and_alerts_moderators(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    engine = ModerationEngine()
    engine.signposts["nhssm"] = "Our own words. Samaritans: 116 123."
    platform = FakePlatform({"signpost", "modlog"})
    events = chat.store(chat.event("A2 I don't want to be here anymore", author="jo"))
    report = await engine.screen(chat.archive, platform, events, chat.session, T0)
    # Holds nothing: still public, nothing hidden, the text as written.
    assert chat.public("m1") == "A2 I don't want to be here anymore"
    kinds = [a.kind for a in platform.actions]
    assert "hold" not in kinds and "hide" not in kinds
    (signpost,) = [a for a in platform.actions if a.kind == "signpost"]
    assert signpost.author_id == "jo" and signpost.text == "Our own words. Samaritans: 116 123."
    (modlog,) = [a for a in platform.actions if a.kind == "modlog"]
    assert "I don't want to be here" in (modlog.text or "")
    assert "sent to them privately" in (modlog.text or "")
    to = {n.to: n.text for n in report.notices}
    assert to["author"] == "Our own words. Samaritans: 116 123."
    assert "I don't want to be here anymore" in to["moderators"]
    # A replay of the same event signposts nobody twice.
    platform.actions.clear()
    await engine.screen(chat.archive, platform, events, chat.session, T0)
    assert [a for a in platform.actions if a.kind == "signpost"] == []


async def test_platform_without_private_channel_tells_moderators(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    platform = FakePlatform({"modlog"})  # like X: no private channel
    events = chat.store(chat.event("I want to end my life"))
    report = await ModerationEngine().screen(chat.archive, platform, events, chat.session, T0)
    (alert,) = [n.text for n in report.notices if n.to == "moderators"]
    assert "not sent" in alert and "reach out another way" in alert
    # A missing private channel is not a moderation failure to flag separately.
    assert chat.archive.db.execute(
        "select count(*) from moderation_events where check_name = 'platform'").fetchone()[0] == 0


def test_first_look_changes_no_verdict() -> None:
    from bot.moderation.crisis import scan_all

    for row in _rows() + _rows(HELD_OUT):
        assert detect_crisis(row["text"]) == scan_all(row["text"]), row["text"]


@given(st.lists(st.sampled_from(
    "I i'm me my can't cant cannot can not go on carry want to die end it all life myself "
    "kill hurt better off without dead wish was here anymore any more suicidal take pills "
    "my tablets overdose self-harm cutting again won't be around tomorrow this is last "
    "message no point in way out see any . , \" ' lol patient said".split(" ")), max_size=14))
def test_first_look_agrees_on_chat_words(words: list[str]) -> None:
    from bot.moderation.crisis import scan_all

    text = " ".join(words)
    assert detect_crisis(text) == (scan_all(text) if len(text) >= 6 else [])
