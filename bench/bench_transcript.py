"""Benchmark: build a transcript (model + summary) and render every format.

Each size runs in its own subprocess so peak memory is that process's own high-water mark
(resource.getrusage ru_maxrss: the whole interpreter, imports and the generated input
included), with no tracemalloc slowdown. Timings are wall-clock (perf_counter) inside the
child, split by stage, plus the child's CPU time (process_time) for the whole run, which
is the fairer figure on a shared, busy machine. Prints a table and writes
bench/results/transcript.json.

    .venv/bin/python bench/bench_transcript.py                 # 1k, 10k, 100k
    .venv/bin/python bench/bench_transcript.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "transcript.json"
TARGET_SECONDS, TARGET_MB = 5.0, 300.0
WORDS = [
    "patients",
    "staff",
    "nurse",
    "ward",
    "social",
    "media",
    "twitter",
    "guidance",
    "trust",
    "digital",
    "team",
    "share",
    "learn",
    "support",
    "community",
    "leadership",
    "change",
    "listen",
    "voice",
    "care",
    "quality",
    "safety",
    "data",
    "training",
    "time",
    "confidence",
    "blog",
    "network",
    "engage",
    "public",
    "feedback",
    "example",
    "policy",
    "health",
    "service",
    "doctor",
    "students",
    "mentor",
    "wellbeing",
    "burnout",
    "rota",
    "shift",
    "covid",
    "vaccine",
    "clinic",
    "patient",
    "experience",
    "story",
    "hospital",
    "manager",
    "board",
    "culture",
    "open",
    "honest",
    "question",
    "answer",
    "idea",
    "project",
]


def generate(n: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """A realistic-looking hour: 8 questions, ~30% replies, some links, a few removed."""
    from bot.archive.records import ItemRow, SessionRow, StoredMessage

    rng = random.Random(seed)
    start = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
    session = SessionRow(
        id=1,
        chat_id="bench",
        title="Bench chat",
        hashtag="#BENCH",
        timezone="Europe/London",
        scheduled_start=start,
        duration_minutes=60,
        status="ended",
        rehearsal=False,
        pace=1.0,
        platforms=("web", "x"),
        started_at=start,
        ended_at=start + timedelta(minutes=60),
        host_name="Host",
    )
    items = [ItemRow("welcome", None, "Welcome to #BENCH", 0, "sent", start, {"web": "i-w"})]
    items += [
        ItemRow(
            f"q{q}",
            q,
            f"Q{q} What about {WORDS[q]}? #BENCH",
            300 + (q - 1) * 420,
            "sent",
            start + timedelta(seconds=300 + (q - 1) * 420),
            {"web": f"i-q{q}"},
        )
        for q in range(1, 9)
    ]
    items.append(
        ItemRow(
            "close",
            None,
            "Thanks all #BENCH",
            3300,
            "sent",
            start + timedelta(seconds=3300),
            {"web": "i-c"},
        )
    )
    authors = max(20, n // 20)
    msgs = []
    recent: dict[int, list[str]] = {}
    for i in range(n):
        sec = 60 + 3240 * i / n
        q = min(8, max(0, int((sec - 300) // 420) + 1))
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
        if rng.random() < 0.05:
            words += f" https://example.org/{rng.randint(1, 200)}"
        reply_to = None
        pool = recent.setdefault(q, [])
        if pool and rng.random() < 0.3:
            reply_to = rng.choice(pool[-50:])
        a = rng.randrange(authors)
        platform_ = "x" if rng.random() < 0.2 else "web"
        r = rng.random()
        msgs.append(
            StoredMessage(
                platform=platform_,
                id=str(i),
                session_id=1,
                author_id=f"u{a}",
                author_name=f"Person {a}",
                author_handle=f"p{a}",
                text=(f"A{q} " if q and not reply_to else "") + words + " #BENCH",
                created=start + timedelta(seconds=sec),
                reply_to=reply_to,
                edited=start + timedelta(seconds=sec + 30) if r < 0.02 else None,
                deleted=0.02 <= r < 0.03,
                hidden=0.03 <= r < 0.035,
                redacted_text="[removed]" if 0.035 <= r < 0.04 else None,
                reactions=rng.choice((0, 0, 0, 1, 2, 5)),
                section="question" if q else "welcome",
                question=q or None,
                method="reply" if reply_to else "tag",
                confidence=0.9,
            )
        )
        pool.append(str(i))
    return session, items, msgs


def run_one(n: int) -> dict[str, object]:
    """In the child: generate, then time each stage once, writing files as the bot does."""
    from bot.transcript import build_transcript
    from bot.transcript.charts import bar_chart_png
    from bot.transcript.write import FILENAMES, write_atomic, write_format

    session, items, msgs = generate(n)
    rss_input = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times: dict[str, float] = {}
    sizes: dict[str, int] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    t = build_transcript(session, items, msgs, previous_participants={("web", "u1")})
    times["build+summary"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for fmt in FILENAMES:
            s = time.perf_counter()
            path = write_format(t, fmt, out)
            times[fmt] = time.perf_counter() - s
            sizes[fmt] = path.stat().st_size
        s = time.perf_counter()
        write_atomic(out / "activity.png", bar_chart_png(t.summary.activity.counts))
        times["png"] = time.perf_counter() - s
    times["total"] = time.perf_counter() - t0
    # CPUeconds too: on a shared machine wall time includes waiting for a core.
    times["cpu_total"] = time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "messages": n,
        "seconds": times,
        "peak_rss_mb": round(peak, 1),
        "rss_after_input_mb": round(rss_input, 1),
        "bytes": sizes,
    }


def calibrate() -> float:
    """Seconds for a fixed pure-Python loop: says how fast this machine is right now
    (about 0.4 s on an idle 2020s desktop core with CPython 3.11)."""
    start = time.perf_counter()
    x = 0
    for i in range(10_000_000):
        x += i
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    before = calibrate()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="transcript: build + summary + write html/md/json/csv/png (seconds)")
        for col in (
            "messages",
            "build",
            "html",
            "md",
            "json",
            "csv",
            "png",
            "total",
            "CPU",
            "peak RSS MB",
            "input RSS MB",
            "µs/msg",
        ):
            table.add_column(col, justify="right")
        for r in rows:
            s = r["seconds"]
            table.add_row(
                f"{r['messages']:,}",
                *(
                    f"{s[k]:.3f}"
                    for k in (
                        "build+summary",
                        "html",
                        "md",
                        "json",
                        "csv",
                        "png",
                        "total",
                        "cpu_total",
                    )
                ),
                f"{r['peak_rss_mb']:.0f}",
                f"{r['rss_after_input_mb']:.0f}",
                f"{1e6 * s['total'] / r['messages']:.1f}",
            )
        Console(width=120).print(table)
    except ImportError:  # rich is a dependency, but a plain table will do
        for r in rows:
            print(r["messages"], r["seconds"]["total"], r["peak_rss_mb"])
    speed = (before + calibrate()) / 2
    print(f"machine speed: a 10M-step Python loop took {speed:.2f} s (idle desktop: ~0.4 s)")
    biggest = max(rows, key=lambda r: r["messages"])
    verdict = {
        "messages": biggest["messages"],
        "seconds_ok": biggest["seconds"]["total"] < TARGET_SECONDS,
        "memory_ok": biggest["peak_rss_mb"] < TARGET_MB,
    }
    print(
        f"target for 100k: < {TARGET_SECONDS} s and < {TARGET_MB} MB peak RSS; "
        f"largest run: {verdict}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "transcript",
                "memory": "peak RSS (ru_maxrss) of one subprocess per size, "
                          "input generation included",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "target": {
                    "seconds": TARGET_SECONDS,
                    "peak_rss_mb": TARGET_MB,
                    "messages": 100_000,
                },
                "calibration_loop_10M_seconds": round(speed, 3),
                "runs": rows,
                "verdict": verdict,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
