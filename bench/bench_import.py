"""Benchmark: `tweetchat import x` and `tweetchat import discord` as a user runs them.

For each platform and size, each in its own process, the three in turns, repeated (median
kept; each ratio is the median of the rounds' own ratios):

- tweetchat: the real command, `python -m bot import x FILE --script S` (or `import
  discord`), into a fresh archive: parse, store, index, group the host's posts into
  sessions, attribute every message; interpreter start-up and imports included;
- floor: orjson parse, flatten, one `executemany` into a plain SQLite table with the raw
  JSON kept, no full-text index (bench/floors.py): what any importer must pay;
- sqlite-utils: `sqlite-utils insert --nl --pk id` of the same messages flattened one per
  line: what a general-purpose loader takes.

Generated input (bench/gen_x.py, bench/gen_discord.py: weekly sessions of 2,000) is cached
in --data-dir. Prints a Rich table and writes bench/results/import.json.

    .venv/bin/python bench/bench_import.py                          # x and discord, 100k
    .venv/bin/python bench/bench_import.py --sizes 10000,100000 --repeat 3
    .venv/bin/python bench/bench_import.py --platforms x --sizes 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

TARGET_X_FLOOR, TARGET_PEAK_MB = 2.0, 300.0
MODES = ("tweetchat", "floor", "sqlite-utils")


def ensure_data(platform: str, n: int, work: Path) -> tuple[Path, Path]:
    """The generated input and its flattened lines, made once and cached."""
    from bench.gen_discord import generate_discord
    from bench.gen_x import generate_x

    if platform == "x":
        data, flat = work / f"x-pages-{n}.jsonl", work / f"x-flat-{n}.jsonl"
        make: Any = generate_x
    else:
        data, flat = work / f"discord-{n}.json", work / f"discord-flat-{n}.jsonl"
        make = generate_discord
    if not (data.exists() and flat.exists()):
        print(f"generating {n:,} {platform} messages in {work} ...", flush=True)
        part = data.with_suffix(".part")
        make(n, part, flat)
        part.rename(data)
    return data, flat


def measure(platform: str, n: int, work: Path, times: int,
            modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    from bench.gen_x import SCRIPT

    data, flat = ensure_data(platform, n, work)
    script = work / "bench.yaml"
    script.write_text(SCRIPT)
    db = work / f"archive-{platform}.db"
    config = harness.settings_file(work, db, work / "transcripts")
    env = {"TWEETCHAT_CONFIG": str(config)}
    py = sys.executable
    row: dict[str, Any] = {"platform": platform, "messages": n,
                           "file_mb": round(data.stat().st_size / 2**20, 1)}
    floor_db, su_db = work / "floor.db", work / "sqlite-utils.db"
    commands = {
        "tweetchat": (db, [py, "-m", "bot", "import", platform, str(data), "--script",
                           str(script)]),
        "floor": (floor_db, [py, str(ROOT / "bench" / "floors.py"), platform, str(data),
                             str(floor_db)]),
        "sqlite-utils": (su_db, [str(harness.BIN / "sqlite-utils"), "insert", str(su_db),
                                 "messages", str(flat), "--nl", "--pk", "id"]),
    }
    print(f"  {platform} {n:,}: {', '.join(m for m in commands if m in modes)}, in turns",
          flush=True)
    row.update(harness.interleaved(  # each run starts from no database at all
        times, {mode: harness.from_nothing(argv, target)
                for mode, (target, argv) in commands.items() if mode in modes},
        envs={"tweetchat": env}))
    for mode in modes:
        out = row[mode].pop("stdout")
        if mode == "tweetchat":
            row[mode]["summary"] = out[-600:]
    if set(MODES) <= set(modes):
        paired = harness.paired_ratio
        row["x_floor"] = paired(row["tweetchat"], row["floor"])
        row["x_sqlite_utils"] = paired(row["tweetchat"], row["sqlite-utils"])
        # CPU seconds too: on a busy shared machine wall time is mostly waiting for a core.
        row["cpu_x_floor"] = paired(row["tweetchat"], row["floor"], "round_cpu")
        row["cpu_x_sqlite_utils"] = paired(row["tweetchat"], row["sqlite-utils"], "round_cpu")
    for mode in modes:
        row[mode]["per_s"] = round(n / row[mode]["seconds"])
    for path in (db, floor_db, su_db):
        harness.fresh(path)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--platforms", default="x,discord")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=harness.DEFAULT_DATA_DIR)
    parser.add_argument("--modes", default=",".join(MODES),
                        help="which of tweetchat,floor,sqlite-utils to run (ratios need all)")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.data_dir
    work.mkdir(parents=True, exist_ok=True)
    if args.generate:
        platform, n = args.generate.split(":")
        ensure_data(platform, int(n), work)
        return
    for p in args.platforms.split(","):
        for n in args.sizes.split(","):
            # In another process: a child started from a big parent would report the
            # parent's peak memory as its own.
            subprocess.run([sys.executable, __file__, "--generate", f"{p}:{n}", "--data-dir",
                            str(work)], check=True)
    speed = harness.calibrate()
    modes = tuple(m for m in MODES if m in args.modes.split(","))
    rows = [measure(p, int(n), work, args.repeat, modes)
            for p in args.platforms.split(",") for n in args.sizes.split(",")]
    speed = round((speed + harness.calibrate()) / 2, 3)

    def cell(row: dict[str, Any], *path: str) -> Any:
        value: Any = row
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        return "-" if value == {} else value

    harness.print_table(
        f"import, median of {args.repeat} (machine: 10M-step loop {speed} s; idle ~0.4 s)",
        ["command", "messages", "MB", "tweetchat s", "CPU s", "peak MB", "PSS sum MB",
         "floor s", "CPU s",
         "sqlite-utils s", "CPU s", "x floor", "x floor CPU", "x s-u", "x s-u CPU",
         "all tweetchat runs"],
        [(f"import {r['platform']}", f"{r['messages']:,}", r["file_mb"],
          cell(r, "tweetchat", "seconds"), cell(r, "tweetchat", "cpu"),
          cell(r, "tweetchat", "peak_mb"), cell(r, "tweetchat", "peak_pss_sum_mb"),
          cell(r, "floor", "seconds"), cell(r, "floor", "cpu"),
          cell(r, "sqlite-utils", "seconds"), cell(r, "sqlite-utils", "cpu"),
          cell(r, "x_floor"), cell(r, "cpu_x_floor"), cell(r, "x_sqlite_utils"),
          cell(r, "cpu_x_sqlite_utils"),
          " ".join(str(s) for s in r.get("tweetchat", {}).get("all_seconds", ())))
         for r in rows],
    )
    # A partial run (some modes only, e.g. memory at 1M) keeps the full run's file intact.
    name = "import" if modes == MODES else "import-" + "-".join(modes)
    harness.save(name, {"calibration_loop_10M_seconds": speed, "repeat": args.repeat,
                        "target": {"x_floor_max": TARGET_X_FLOOR, "faster_than": "sqlite-utils",
                                   "peak_mb_max_at_1m": TARGET_PEAK_MB},
                        "rows": rows})

if __name__ == "__main__":
    main()
