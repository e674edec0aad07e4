"""Benchmark: `tweetchat compact` of an archive made with 4 KiB pages, as a user runs it.

The archive is the transcript bench's (one session of N generated tweets, built once and
cached in --data-dir), rewritten once with 4 KiB pages as an archive made before 16 KiB
pages would be. Each run copies that file, then, each in its own process, the two in turns
(the ratio is the median of the rounds' own):

- tweetchat: `python -m bot compact`: check the file and the disk, leave write-ahead
  logging, merge the full-text index, VACUUM with 16 KiB pages, check the rowids and the
  index, write-ahead logging again; interpreter start-up and imports included;
- floor: the same page-size change with plain sqlite3 and nothing else (bench/floors.py).

Prints a Rich table and writes bench/results/compact.json.

    .venv/bin/python bench/bench_compact.py                  # 100k, 5 rounds
    .venv/bin/python bench/bench_compact.py --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import floors, harness  # noqa: E402
from bench.bench_transcript import ensure_archive  # noqa: E402

OLD_PAGE_SIZE = 4096


def old_archive(n: int, work: Path) -> Path:
    """The cached archive of n tweets with 4 KiB pages, made once from the transcript's."""
    cached = work / f"compact-archive-{n}-{OLD_PAGE_SIZE // 1024}k.db"
    if cached.exists():
        return cached
    part = harness.fresh(work / f"compact-archive-{n}.part")
    shutil.copyfile(ensure_archive(n, work), part)
    floors.vacuum(part, OLD_PAGE_SIZE)
    part.rename(cached)
    return cached


def measure(n: int, work: Path, times: int) -> dict[str, Any]:
    cached = old_archive(n, work)
    db = work / "compact.db"
    config = harness.settings_file(work, db, work / "transcripts")
    py = sys.executable

    def copied(argv: list[str]) -> Any:
        def prepare() -> list[str]:
            shutil.copyfile(cached, harness.fresh(db))
            return argv
        return prepare

    print(f"  compact {n:,}: tweetchat, floor, in turns", flush=True)
    row: dict[str, Any] = {"messages": n, "bytes_before": cached.stat().st_size}
    row.update(harness.interleaved(
        times, {"tweetchat": copied([py, "-m", "bot", "compact"]),
                "floor": copied([py, str(ROOT / "bench" / "floors.py"), "vacuum", str(db)])},
        envs={"tweetchat": {"TWEETCHAT_CONFIG": str(config)}}))
    for mode in ("tweetchat", "floor"):
        row[mode].pop("stdout")
    row["x_floor"] = harness.paired_ratio(row["tweetchat"], row["floor"])
    row["cpu_x_floor"] = harness.paired_ratio(row["tweetchat"], row["floor"], "round_cpu")
    harness.fresh(db)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=harness.DEFAULT_DATA_DIR)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    speed = harness.calibrate()
    row = measure(args.size, args.data_dir, args.repeat)
    speed = round((speed + harness.calibrate()) / 2, 3)
    t, f = row["tweetchat"], row["floor"]
    harness.print_table(
        f"tweetchat compact, median of {args.repeat} in turns (10M loop {speed} s)",
        ["messages", "archive MB", "tweetchat s", "CPU s", "peak MB", "floor s", "x floor",
         "x floor CPU"],
        [(f"{args.size:,}", round(row["bytes_before"] / 1e6, 1), t["seconds"], t["cpu"],
          t["peak_mb"], f["seconds"], row["x_floor"], row["cpu_x_floor"])])
    harness.save("compact", {"calibration_loop_10M_seconds": speed, "repeat": args.repeat,
                             "rows": [row]})


if __name__ == "__main__":
    main()
