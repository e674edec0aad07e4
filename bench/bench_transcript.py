"""Benchmark: `tweetchat transcript SID --out DIR` (every format) as a user runs it.

The archive holds one generated session of N tweets (bench/gen_x.py, imported once with
`import_x` and cached in --data-dir, with 1% of messages hidden and 1% redacted by a
moderator). Each run copies the cached archive, then, each in its own process, the two in
turns, repeated (median kept; the ratio is the median of the rounds' own ratios):

- tweetchat: the real command, `python -m bot transcript 1 --out DIR`: claim the window,
  attribute, read the session, build the model and summary, write html, md, json, csv
  and the activity chart (in two forked lanes on a machine with 2+ cores, as the CLI
  does); interpreter start-up and imports included;
- floor: read the session's rows in order with plain sqlite3 and write files of the
  same sizes as tweetchat's (bench/floors.py): what any renderer must pay.

Prints a Rich table and writes bench/results/transcript.json.

    .venv/bin/python bench/bench_transcript.py                      # 100k
    .venv/bin/python bench/bench_transcript.py --sizes 10000,100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

TARGET_X_FLOOR, TARGET_PEAK_MB = 1.5, 300.0
SESSION = 1


def ensure_archive(n: int, work: Path) -> Path:
    """An archive with one session of n generated tweets, made once and cached.

    Cached under the archive's page size too: one made by an earlier version, with other
    pages, is not what a user's new archive is.
    """
    from bot.archive.store import PAGE_SIZE

    cached = work / f"transcript-archive-{n}-{PAGE_SIZE // 1024}k.db"
    if cached.exists():
        return cached
    from bench.gen_x import SCRIPT, generate_x
    from bot.archive import Archive
    from bot.platforms.x.importer import import_x
    from bot.script import load_script

    print(f"building an archive with one session of {n:,} tweets in {work} ...", flush=True)
    pages, flat = work / f"one-session-{n}.jsonl", work / f"one-session-flat-{n}.jsonl"
    generate_x(n, pages, flat, per_session=n)
    script = work / "bench.yaml"
    script.write_text(SCRIPT)
    part = harness.fresh(work / f"transcript-archive-{n}.part")
    archive = Archive(part)
    report = import_x(archive, pages, load_script(script))
    assert report.sessions == [SESSION], report.sessions
    keys = [m.key for m in archive.messages(SESSION) if not m.is_host]
    for i, (platform, mid) in enumerate(keys[::50]):  # 2%: half hidden, half redacted
        if i % 2:
            archive.set_moderation_state(platform, mid, hidden=True)
        else:
            archive.set_moderation_state(platform, mid, redacted_text="[removed by moderator]")
    archive.close()
    for path in (pages, flat):
        path.unlink()
    part.rename(cached)
    return cached


def measure(n: int, work: Path, times: int) -> dict[str, Any]:
    cached = ensure_archive(n, work)
    db = work / "transcript.db"
    out = work / "transcript-out"
    config = harness.settings_file(work, db, work / "transcripts")
    py = sys.executable

    def prepare_tweetchat() -> list[str]:
        shutil.copyfile(cached, harness.fresh(db))
        shutil.rmtree(out, ignore_errors=True)
        return [py, "-m", "bot", "transcript", str(SESSION), "--out", str(out)]

    floor_out = work / "floor-out"

    def prepare_floor() -> list[str]:
        # Files of the sizes tweetchat's last run wrote (the first round runs it first).
        sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
        shutil.copyfile(cached, harness.fresh(db))
        shutil.rmtree(floor_out, ignore_errors=True)
        return [py, str(ROOT / "bench" / "floors.py"), "transcript", str(db), str(SESSION),
                str(floor_out), json.dumps(sizes)]

    print(f"  transcript {n:,}: tweetchat, floor, in turns", flush=True)
    row: dict[str, Any] = {"messages": n}
    row.update(harness.interleaved(
        times, {"tweetchat": prepare_tweetchat, "floor": prepare_floor},
        envs={"tweetchat": {"TWEETCHAT_CONFIG": str(config)}}))
    for mode in ("tweetchat", "floor"):
        row[mode].pop("stdout")
    row["bytes"] = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    row["x_floor"] = harness.paired_ratio(row["tweetchat"], row["floor"])
    # CPU seconds too: on a busy shared machine wall time is mostly waiting for a core.
    row["cpu_x_floor"] = harness.paired_ratio(row["tweetchat"], row["floor"], "round_cpu")
    for path in (out, floor_out):
        shutil.rmtree(path, ignore_errors=True)
    harness.fresh(db)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=harness.DEFAULT_DATA_DIR)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.data_dir
    work.mkdir(parents=True, exist_ok=True)
    if args.build:
        ensure_archive(args.build, work)
        return
    for n in args.sizes.split(","):
        # Built before timing anything (it is slow), in another process: a child started
        # from a big parent would report the parent's peak memory as its own.
        subprocess.run([sys.executable, __file__, "--build", n, "--data-dir", str(work)],
                       check=True)
    speed = harness.calibrate()
    rows = [measure(int(n), work, args.repeat) for n in args.sizes.split(",")]
    speed = round((speed + harness.calibrate()) / 2, 3)
    harness.print_table(
        f"transcript, all formats, median of {args.repeat} "
        f"(machine: 10M-step loop {speed} s; idle ~0.4 s)",
        ["command", "messages", "output MB", "tweetchat s", "CPU s", "peak MB", "PSS sum MB",
         "floor s",
         "CPU s", "x floor", "x floor CPU", "all tweetchat runs"],
        [("transcript", f"{r['messages']:,}", round(sum(r["bytes"].values()) / 2**20, 1),
          r["tweetchat"]["seconds"], r["tweetchat"]["cpu"], r["tweetchat"]["peak_mb"],
          r["tweetchat"]["peak_pss_sum_mb"],
          r["floor"]["seconds"], r["floor"]["cpu"], r["x_floor"], r["cpu_x_floor"],
          " ".join(str(s) for s in r["tweetchat"]["all_seconds"])) for r in rows],
    )
    harness.save("transcript", {"calibration_loop_10M_seconds": speed, "repeat": args.repeat,
                        "target": {"x_floor_max": TARGET_X_FLOOR,
                                   "peak_mb_max_at_1m": TARGET_PEAK_MB},
                        "rows": rows})


if __name__ == "__main__":
    main()
