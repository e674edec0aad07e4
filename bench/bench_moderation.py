"""Moderation benchmark: scan throughput, and precision/recall per check on the corpus.

    python -m bench.bench_moderation [--messages 100000]

Throughput runs the full default policy (identifiers, word list, spam checks with a
per-author history) over a generated stream shaped like a busy chat: mostly ordinary
answers, some links and mentions, a few identifiers and some abuse. Quality is measured
on tests/moderation/corpus.jsonl, whose labels come from how it was built. Prints a table
and writes bench/results/moderation.json.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.moderation.engine import ModerationEngine  # noqa: E402
from bot.moderation.policy import Policy  # noqa: E402

CORPUS = ROOT / "tests" / "moderation" / "corpus.jsonl"
RESULTS = ROOT / "bench" / "results" / "moderation.json"
CHECKS = ("nhs_number", "phone", "email", "postcode", "dob", "abuse")

CLEAN = [
    "A{q} our trust has a social media policy but few staff have read it #NHSSM",
    "A{q} totally agree with @NHSEmployers on this one",
    "A{q} we trained 1,234 staff in 2013, 60 managers so far",
    "Q{q} at 20:{mm}, everyone ready? #NHSSM",
    "A{q} see https://www.nhsemployers.org/social-media for the guidance",
    "A{q} the canteen rule works: if you wouldn't say it there, don't type it",
    "A{q} Scunthorpe and Essex trusts share an assessment class",
    "A{q} Wednesday 12/03 at 8pm suits me, room 101",
    "great chat tonight, thanks all! @jo @sam",
    "A{q} 2nd point: managers need support, not bans",
]
DIRTY = [
    "A{q} pt 943 476 5919 on the ward photo, please delete",
    "A{q} ring me on 07911 123456 after the chat",
    "A{q} email jo.bloggs@nhs.net for the slides",
    "A{q} the office is at SW1A 1AA",
    "A{q} wristband said DOB 12/03/1954",
    "A{q} this policy is sh1t",
]

TAIL = ("really", "agree", "thanks", "#NHSSM", "staff", "policy", "training", "trust",
        "patients", "HR", "managers", "comms", "Twitter", "blog", "2013", "8pm", "@jo", "ward",
        "confidential", "canteen", "yes", "no", "maybe", "great", "point", "and", "the", ":)")


def stream(n: int, seed: int = 7) -> list[tuple[str, str, datetime]]:
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        pool = DIRTY if rng.random() < 0.05 else CLEAN
        text = rng.choice(pool).format(q=rng.randint(1, 8), mm=f"{rng.randint(0, 59):02d}")
        text += " " + " ".join(rng.sample(TAIL, rng.randint(0, 4)))
        author = f"user{rng.randint(1, 5000)}"
        out.append((text, author, t0 + timedelta(seconds=i * 0.036)))  # 100k in one hour
    return out


def throughput(n: int) -> dict[str, Any]:
    engine = ModerationEngine(Policy.default())
    messages = stream(n)
    start = time.perf_counter()
    actions: Counter[str] = Counter()
    for i, (text, author, at) in enumerate(messages):
        verdict = engine.verdict(text, author, at, engine.context, message_key=str(i))
        actions[verdict.action or "none"] += 1
    elapsed = time.perf_counter() - start
    return {"messages": n, "seconds": round(elapsed, 3),
            "messages_per_second": round(n / elapsed), "actions": dict(actions)}


def quality() -> dict[str, dict[str, Any]]:
    engine = ModerationEngine(Policy.default())
    counts = {c: Counter() for c in CHECKS}
    for line in CORPUS.read_text("utf-8").splitlines():
        row = orjson.loads(line)
        text = row["text"]
        gold = []
        for label in row["labels"]:
            start = text.find(label["match"])
            assert start >= 0, f"corpus label not in text: {label}"
            gold.append((label["check"], start, start + len(label["match"])))
        found = [(f.check, f.start, f.end) for f in
                 engine.verdict(text, None, datetime.now(UTC)).findings if f.check in CHECKS]
        for check, s, e in found:
            hit = any(g[0] == check and s < g[2] and g[1] < e for g in gold)
            counts[check]["tp" if hit else "fp"] += 1
        for check, s, e in gold:
            # Covered whole, not just overlapped: a mask that leaves the year of a date of
            # birth public ("DOB [date of birth removed]. 1954") is a miss.
            covered = {i for f in found if f[0] == check for i in range(f[1], f[2])}
            if not set(range(s, e)) <= covered:
                counts[check]["fn"] += 1
    out = {}
    for check, c in counts.items():
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        out[check] = {
            "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args(argv)
    speed = throughput(args.messages)
    per_check = quality()
    print(f"scan: {speed['messages']} messages in {speed['seconds']}s = "
          f"{speed['messages_per_second']:,} messages/s  ({speed['actions']})")
    print(f"{'check':<12}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>9}")
    for check, r in per_check.items():
        print(f"{check:<12}{r['tp']:>5}{r['fp']:>5}{r['fn']:>5}"
              f"{r['precision']:>11.1%}{r['recall']:>9.1%}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "moderation", "python": platform.python_version(),
              "throughput": speed, "corpus": str(CORPUS.relative_to(ROOT)),
              "per_check": per_check}
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
