"""Benchmark: what starting the `tweetchat` command costs, before it does any work.

Every command pays its start-up (the interpreter, then the modules it imports), and the
issue 15 benches run the real command, so start-up is part of their ratio to the floor.
Each run is its own process, the commands in turns, repeated (median kept; each ratio is
the median of the rounds' own):

- floor: `python -c pass`, the interpreter's own start-up, timed in the same run;
- `python -m bot --help`: the command list, the cheapest thing a user runs;
- `python -m bot sessions`: a cheap real command (settings, archive, one Rich table);
- `python -m bot import x FILE --script S`: a 50-tweet import into a fresh archive, so the
  start-up of the command issue 15 measures is seen without the work it times.

Also reports how long `import bot.cli` takes alone (`-X importtime`, median). Prints a Rich
table and writes bench/results/startup.json.

    .venv/bin/python bench/bench_startup.py
    .venv/bin/python bench/bench_startup.py --repeat 11
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

TWEETS = 50


def cli_import_ms(times: int, env: dict[str, str]) -> float:
    """Median milliseconds `import bot.cli` takes, itself and all it imports (-X importtime)."""
    samples = []
    for _ in range(times):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import bot.cli"],
                              env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        for line in proc.stderr.splitlines():
            fields = [f.strip() for f in line.split("|")]
            if len(fields) == 3 and fields[2] == "bot.cli":
                samples.append(int(fields[1]) / 1000)
    return round(statistics.median(samples), 1)


def measure(work: Path, times: int) -> dict[str, Any]:
    """Each command `times` times, in its own process; the median of each."""
    from bench.gen_x import SCRIPT, generate_x

    script, data = work / "bench.yaml", work / "x-pages.jsonl"
    script.write_text(SCRIPT)
    generate_x(TWEETS, data, work / "x-flat.jsonl")
    db = work / "archive.db"
    config = harness.settings_file(work, db, work / "transcripts")
    env = {"TWEETCHAT_CONFIG": str(config)}
    py = sys.executable
    harness.run([py, "-m", "bot", "import", "x", str(data), "--script", str(script)], env=env)
    commands: dict[str, tuple[list[str], bool]] = {  # name -> (argv, fresh archive each run)
        "floor": ([py, "-c", "pass"], False),
        "--help": ([py, "-m", "bot", "--help"], False),
        "sessions": ([py, "-m", "bot", "sessions"], False),
        f"import x ({TWEETS} tweets)": (
            [py, "-m", "bot", "import", "x", str(data), "--script", str(script)], True),
    }
    print(f"  {', '.join(commands)}, in turns", flush=True)
    rows: dict[str, Any] = harness.interleaved(
        times, {name: harness.from_nothing(argv, *([db] if fresh else []))
                for name, (argv, fresh) in commands.items()},
        envs={name: env for name in commands})
    floor = rows["floor"]
    for row in rows.values():
        row.pop("stdout")
        row["x_floor"] = harness.paired_ratio(row, floor)
        row["cpu_x_floor"] = harness.paired_ratio(row, floor, "round_cpu")
        row["over_floor_s"] = round(row["seconds"] - floor["seconds"], 3)
    return {"commands": rows, "import_bot_cli_ms": cli_import_ms(times, env)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    speed = harness.calibrate()
    with tempfile.TemporaryDirectory(prefix="tweetchat-startup-") as tmp:
        result = measure(Path(tmp), args.repeat)
    speed = round((speed + harness.calibrate()) / 2, 3)
    harness.print_table(
        f"start-up, median of {args.repeat} (machine: 10M-step loop {speed} s; idle ~0.4 s); "
        f"import bot.cli {result['import_bot_cli_ms']} ms",
        ["command", "wall s", "CPU s", "peak MB", "x floor", "x floor CPU", "over floor s",
         "all runs s"],
        [(name, r["seconds"], r["cpu"], r["peak_mb"], r["x_floor"], r["cpu_x_floor"],
          r["over_floor_s"], " ".join(str(s) for s in r["all_seconds"]))
         for name, r in result["commands"].items()],
    )
    harness.save("startup", {"calibration_loop_10M_seconds": speed, "repeat": args.repeat,
                             **result})


if __name__ == "__main__":
    main()
