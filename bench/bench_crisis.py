"""Crisis check benchmark: precision and recall on the labelled corpus, and its speed.

    python -m bench.bench_crisis

Quality is measured on tests/moderation/crisis_corpus.jsonl (labels from construction),
over the whole corpus and over its held-out part (lines written after the detector was
tuned, never tuned on). Speed: detect_crisis over the moderation bench's chat stream.
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
RESULTS = ROOT / "bench" / "results" / "crisis.json"


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


def speed(n: int = 100_000) -> dict[str, Any]:
    texts = [text for text, _, _ in stream(n)]
    start = time.perf_counter()
    flagged = sum(1 for text in texts if detect_crisis(text))
    elapsed = time.perf_counter() - start
    return {"messages": n, "seconds": round(elapsed, 3),
            "messages_per_second": round(n / elapsed), "flagged": flagged}


def main() -> int:
    rows = [orjson.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]
    parts = {"all": rows, "tuned on": [r for r in rows if not r.get("held_out")],
             "held out": [r for r in rows if r.get("held_out")]}
    results = {name: score(part) for name, part in parts.items()}
    fast = speed()
    print(f"{'part':<10}{'lines':>7}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>9}")
    for name, r in results.items():
        print(f"{name:<10}{r['lines']:>7}{r['tp']:>5}{r['fp']:>5}{r['fn']:>5}"
              f"{r['precision']:>11.1%}{r['recall']:>9.1%}")
    for line in results["all"]["wrong"]:
        print("  " + line)
    print(f"speed: {fast['messages']:,} chat messages in {fast['seconds']} s = "
          f"{fast['messages_per_second']:,}/s ({fast['flagged']} flagged)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = {"benchmark": "crisis", "python": platform.python_version(),
           "corpus": str(CORPUS.relative_to(ROOT)), "quality": results, "speed": fast}
    RESULTS.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
