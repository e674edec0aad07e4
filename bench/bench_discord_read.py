"""Benchmark: the reading half of `tweetchat import discord`, as its forked child runs it.

For an input of 1 MiB or more the import reads in a child (parse, neutral Messages, rows,
each batch pickled for the pipe) while the parent stores; when the child is the slower of
the two, its CPU is the reading phase's wall clock. This runs exactly that work in one
process per repeat (`read_batches` over the Discord parser, the collector paused as in the
import, every `Read` pickled) and reports its CPU seconds, and the same for each stage on
its own: the export reader, then Messages, then rows, then pickling (each includes the
ones before). `--against DIR` runs another checkout's code too, alternately with this
one (an interleaved A/B).

    .venv/bin/python bench/bench_discord_read.py                    # 100k, 3 repeats
    .venv/bin/python bench/bench_discord_read.py --against /work/wt-old --repeat 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

STAGES = ("reader", "messages", "rows", "pickled")


def measure_once(path: Path) -> dict[str, float]:
    """CPU seconds of each stage of the reading (run in a fresh process, code from sys.path)."""
    import gc
    import pickle
    import time

    from bench.gen_x import SCRIPT
    from bot.importers.common import host_names_for
    from bot.importers.reading import read_batches
    from bot.platforms.discord import export, importer
    from bot.script import load_script

    script = load_script(path.parent / "bench-read.yaml", text=SCRIPT)
    hosts = host_names_for(script, "discord", ())

    def reads() -> Any:
        return read_batches(lambda adv: importer._parsed([path], set(hosts), True, adv),
                            script.id, set(hosts))

    # The reader class: ExportReader, or `_Reader` in code from before it had its module.
    reader_class = getattr(export, "ExportReader", None) or export._Reader

    def reader() -> None:
        with open(path, encoding="utf-8") as fp:
            for _ in reader_class(fp, str(path), export.CHUNK).document():
                pass

    def messages() -> None:
        for _ in export.iter_export(path):
            pass

    def rows() -> None:
        for _ in reads():
            pass

    def pickled() -> None:
        for read in reads():
            pickle.dumps(read, pickle.HIGHEST_PROTOCOL)

    out = {}
    gc.disable()  # as in the import (bot/gc_pause.py)
    for name, stage in zip(STAGES, (reader, messages, rows, pickled), strict=True):
        started = time.process_time()
        stage()
        out[name] = round(time.process_time() - started, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=harness.DEFAULT_DATA_DIR)
    parser.add_argument("--against", type=Path,
                        help="another checkout, run alternately with this one (an A/B)")
    parser.add_argument("--once", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(measure_once(args.once)))
        return
    from bench.bench_import import ensure_data

    path, _ = ensure_data("discord", args.size, args.data_dir)
    codes = {"this checkout": ROOT}
    if args.against:
        codes["--against " + str(args.against)] = args.against.resolve()
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in codes}
    for _ in range(args.repeat):
        for label, code in codes.items():  # interleaved: the machine's mood hits both
            done = subprocess.run(
                [sys.executable, __file__, "--once", str(path)], check=True,
                capture_output=True, text=True, env={"PYTHONPATH": f"{code}:{ROOT}"})
            runs[label].append(json.loads(done.stdout))
    medians = {label: {s: round(statistics.median(r[s] for r in rs), 3) for s in STAGES}
               for label, rs in runs.items()}
    harness.print_table(
        f"Discord reading, {args.size:,} messages: CPU seconds, median of {args.repeat}",
        ["code", "stage (each includes the ones before)", "median", "runs"],
        [(label, s, medians[label][s], " ".join(str(r[s]) for r in runs[label]))
         for label in runs for s in STAGES])
    harness.save("discord-read", {"size": args.size, "runs": runs,
                                  "median_cpu_seconds": medians})


if __name__ == "__main__":
    main()
