"""Crisis check benchmark: precision and recall on the labelled corpus, and its speed.

    python -m bench.bench_crisis

Quality is measured on tests/moderation/crisis_corpus.jsonl (labels from construction;
the rounds the rules were made from) and on tests/moderation/crisis_heldout.jsonl (the
last round, written after the last change and never tuned on), and round by round. Each
round was written before the detector saw it; FIRST_MEASURED keeps what each corpus round
scored when it was still held out (the fair estimate for new wording).
Speed: detect_crisis over the moderation bench's chat stream.
Prints a table and writes bench/results/crisis.json.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_moderation import stream  # noqa: E402
from bot.moderation.crisis import detect_crisis  # noqa: E402

CORPUS = ROOT / "tests" / "moderation" / "crisis_corpus.jsonl"
HELD_OUT = ROOT / "tests" / "moderation" / "crisis_heldout.jsonl"
RESULTS = ROOT / "bench" / "results" / "crisis.json"
# What each round scored the first time it was run, before anything was fixed for it:
# (lines, true positives, false alarms, missed). Recorded by hand when a round is tuned on.
FIRST_MEASURED: dict[int, tuple[int, int, int, int]] = {
    2: (70, 30, 4, 0),
    3: (70, 25, 3, 5),
    4: (50, 17, 3, 8),
    5: (120, 18, 5, 42),
    6: (105, 24, 5, 26),
    7: (71, 18, 3, 18),
    8: (70, 25, 0, 10),
}


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, precision and recall, and the lines it got wrong (for reading)."""
    tp = fp = fn = tn = 0
    wrong: list[str] = []
    for row in rows:
        hit = bool(detect_crisis(row["text"]))
        if hit and row["at_risk"]:
            tp += 1
        elif hit:
            fp += 1
            wrong.append(f"false alarm: {row['text']}")
        elif row["at_risk"]:
            fn += 1
            wrong.append(f"missed: {row['text']}")
        else:
            tn += 1
    return {"lines": len(rows), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0, "wrong": wrong}


def _first(lines: int, tp: int, fp: int, fn: int) -> dict[str, Any]:
    """A recorded first measurement, in the same shape as score()'s."""
    return {"lines": lines, "tp": tp, "fp": fp, "fn": fn, "tn": lines - tp - fp - fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0}


def speed(n: int = 100_000) -> dict[str, Any]:
    """Messages a second through detect_crisis over a realistic chat stream."""
    texts = [text for text, _, _ in stream(n)]
    start = time.perf_counter()
    flagged = sum(1 for text in texts if detect_crisis(text))
    elapsed = time.perf_counter() - start
    return {"messages": n, "seconds": round(elapsed, 3),
            "messages_per_second": round(n / elapsed), "flagged": flagged}


def main() -> int:
    rows = [orjson.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]
    held = [orjson.loads(line) for line in HELD_OUT.read_text("utf-8").splitlines()]
    parts = {"corpus": rows, "held out": held}
    for round_no in sorted({r["round"] for r in rows + held}):
        parts[f"round {round_no}"] = [r for r in rows + held if r["round"] == round_no]
    results = {name: score(part) for name, part in parts.items()}
    fast = speed()
    print(f"{'part':<10}{'lines':>7}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>9}")
    for name, r in results.items():
        print(f"{name:<10}{r['lines']:>7}{r['tp']:>5}{r['fp']:>5}{r['fn']:>5}"
              f"{r['precision']:>11.1%}{r['recall']:>9.1%}")
    for line in results["corpus"]["wrong"] + results["held out"]["wrong"]:
        print("  " + line)
    first = {f"round {n}": _first(*counts) for n, counts in FIRST_MEASURED.items()}
    print("when each round was first measured (held out):")
    for name, r in first.items():
        print(f"{name:<10}{r['lines']:>7}{r['tp']:>5}{r['fp']:>5}{r['fn']:>5}"
              f"{r['precision']:>11.1%}{r['recall']:>9.1%}")
    print(f"speed: {fast['messages']:,} chat messages in {fast['seconds']} s = "
          f"{fast['messages_per_second']:,}/s ({fast['flagged']} flagged)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = {"benchmark": "crisis", "python": platform.python_version(),
           "corpus": str(CORPUS.relative_to(ROOT)), "quality": results,
           "held_out": str(HELD_OUT.relative_to(ROOT)), "first_measured": first, "speed": fast}
    RESULTS.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
