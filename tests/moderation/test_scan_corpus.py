"""`scan_lines` (for `tweetchat scan FILE`) and the labelled corpus."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import Policy
from bot.moderation.scan import scan_lines

CORPUS = Path(__file__).with_name("corpus.jsonl")


def test_scan_plain_and_jsonl_lines() -> None:
    lines = [
        "my NHS no is 943 476 5919\n",
        "\n",
        '{"text": "email jo@nhs.net", "author": "jo", "at": "2026-01-07T20:00:00Z"}\n',
        '{"no_text": 1}\n',
        "{not json but a line of text}\n",
        "A1 all fine #NHSSM\n",
    ]
    out = list(scan_lines(lines, Policy.default()))
    assert [r["line"] for r in out] == [1, 3, 4, 5, 6]
    assert out[0] == {
        "line": 1, "checks": ["nhs_number"], "action": "redact",
        "spans": [{"check": "nhs_number", "start": 13, "end": 25, "reason": "NHS number"}],
        "redacted": "my NHS no is [NHS number removed]",
    }
    assert out[1]["checks"] == ["email"] and out[1]["redacted"] == "email [email removed]"
    assert out[2] == {"line": 4, "error": 'JSON line without a "text" field'}
    assert out[3]["checks"] == [] and out[4]["action"] is None
    for row in out:
        orjson.dumps(row)  # every row is JSON-able
        assert "5919" not in orjson.dumps(row).decode()  # matched text is never printed


def test_scan_repeats_need_an_author() -> None:
    spam = '{"text": "Buy followers now", "author": "x", "at": "2026-01-07T20:00:0%dZ"}'
    rows = list(scan_lines([spam % i for i in range(4)], only_matches=True))
    assert [(r["line"], r["checks"], r["action"]) for r in rows] == [
        (3, ["spam_repeat"], "hide"), (4, ["spam_repeat"], "hide")]
    assert list(scan_lines(["Buy followers now"] * 4, only_matches=True)) == []


def test_corpus_precision_and_recall() -> None:
    """Targets: recall 100% for NHS numbers, emails and UK phones; precision >= 95%."""
    engine = ModerationEngine(Policy.default())
    counts: dict[str, Counter[str]] = {}
    lines = CORPUS.read_text("utf-8").splitlines()
    assert len(lines) >= 300
    for line in lines:
        row = orjson.loads(line)
        text = row["text"]
        gold = [(lab["check"], text.index(lab["match"]),
                 text.index(lab["match"]) + len(lab["match"])) for lab in row["labels"]]
        found = [(f.check, f.start, f.end)
                 for f in engine.verdict(text, None, datetime.now(UTC)).findings]
        for check, s, e in found:
            ok = any(g[0] == check and s < g[2] and g[1] < e for g in gold)
            counts.setdefault(check, Counter())["tp" if ok else "fp"] += 1
        for check, s, e in gold:
            if not any(f[0] == check and f[1] < e and s < f[2] for f in found):
                counts.setdefault(check, Counter())["fn"] += 1
            # Overlap is not enough: "DOB [date of birth removed]. 1954" overlaps and leaks.
            covered = {i for f in found if f[0] == check for i in range(f[1], f[2])}
            assert set(range(s, e)) <= covered, (check, text[s:e], text)
    for check in ("nhs_number", "email", "phone"):
        assert counts[check]["fn"] == 0, (check, counts[check])
    for check, c in counts.items():
        assert c["tp"] / (c["tp"] + c["fp"]) >= 0.95, (check, c)
    negatives = sum(1 for line in lines if not orjson.loads(line)["labels"])
    assert negatives >= 150  # plenty of tricky negatives
