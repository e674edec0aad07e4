"""What every command benchmark shares: run a command in its own process as a user would,
timing its wall clock and reading its own peak memory; then a Rich table and a JSON file.

Peak memory is the child's ru_maxrss from `os.wait4`, so nothing the benchmark itself holds
(or an earlier run) is counted: the largest single process's peak. A command that forks
workers is also measured as the sum of its processes' PSS, sampled four times a second
(`peak_pss_sum_mb`; shared pages counted once). Each measurement is repeated and the
median kept: the machine is shared, so ratios to the floor timed in the same run are the
figures to read, and the commands compared are run in turns (`interleaved`), each ratio
the median of the rounds' own (`paired_ratio`).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "tweetchat-bench"


# Set where the tests run (they must not write into the checkout), and on this machine in
# every shell. A user's `tweetchat` has its modules' bytecode (pip compiles an installed
# package; an editable install writes __pycache__ on the first run); with this set, every
# timed run compiled the bot's ~180 modules from source again: 0.1 s a command.
_NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"


@functools.cache
def compile_bot() -> None:
    """Write the bot's bytecode (`bot/__pycache__`, as its first run would), once a process.

    So the first timed run does not pay for compiling what every later one reads.
    """
    env = {k: v for k, v in os.environ.items() if k != _NO_BYTECODE}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bot")],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def run(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
        ) -> dict[str, Any]:
    """Run one command to completion: wall seconds, CPU seconds and peak RSS (MB) of it alone.

    In the environment a user's shell gives it: bytecode is read and written (see
    `compile_bot`), whatever this process was started with.
    """
    compile_bot()
    full_env = {**{k: v for k, v in os.environ.items() if k != _NO_BYTECODE},
                "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=full_env, cwd=cwd or ROOT, stdout=out,
                                stderr=err)
        sampler = PssSampler(proc.pid)
        sampler.start()
        # wait4, not proc.wait(): it returns this child's own resource usage.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"seconds": round(seconds, 3), "cpu": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_mb": round(usage.ru_maxrss / 1024, 1),
            "peak_pss_sum_mb": round(sampler.peak_kib / 1024, 1), "stdout": stdout}


class PssSampler(threading.Thread):
    """The command's memory summed over its processes, sampled four times a second.

    `ru_maxrss` is the largest single process's peak: a command that forks workers (an
    import's reader, a transcript's lanes) uses the sum. PSS (proportional set size)
    splits pages the processes share, so the sum counts each page once.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.25):
            self.peak_kib = max(self.peak_kib, sum(map(_pss_kib, _tree(self.pid))))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc; just `pid` where that cannot be read)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                continue
    return found


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def repeat(times: int, prepare: Callable[[], Sequence[str]], *,
           env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """`times` runs of the command `prepare()` returns (it resets state first); the median."""
    return _summary([run(prepare(), env=env, cwd=cwd) for _ in range(times)])


def from_nothing(argv: Sequence[str], *paths: Path) -> Callable[[], Sequence[str]]:
    """A `prepare` for `repeat`/`interleaved`: `paths` removed before each run of `argv`."""
    def prepare() -> Sequence[str]:
        for path in paths:
            fresh(path)
        return argv
    return prepare


def interleaved(times: int, prepares: dict[str, Callable[[], Sequence[str]]], *,
                envs: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, Any]]:
    """`times` rounds of every command in `prepares`, one of each per round.

    The first round runs them in `prepares`' order (a command may need the one before it
    to have run once); each later round starts one further along.

    Each mode's summary is `repeat`'s, with `round_seconds` (its runs in round order) for
    `paired_ratio`. Interleaving is what makes a ratio fair on a shared machine: the speed
    of a virtual machine's cores drifts by a fifth over minutes, and a command timed in a
    block of its own runs would carry that drift into its ratio to the floor.
    """
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in prepares}
    modes = list(prepares)
    for i in range(times):
        # Each round starts with the next command, so whatever going first or last costs
        # (the previous run's files still being written back, a cold cache) is shared out.
        for mode in modes[i % len(modes):] + modes[:i % len(modes)]:
            runs[mode].append(run(prepares[mode](), env=(envs or {}).get(mode)))
    return {mode: _summary(each) for mode, each in runs.items()}


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["seconds"])
    mid = ordered[len(ordered) // 2]
    return {"seconds": mid["seconds"], "cpu": mid["cpu"],
            "peak_mb": max(r["peak_mb"] for r in runs),
            "peak_pss_sum_mb": max(r["peak_pss_sum_mb"] for r in runs),
            "all_seconds": [r["seconds"] for r in ordered],
            "round_seconds": [r["seconds"] for r in runs],
            "round_cpu": [r["cpu"] for r in runs], "stdout": mid["stdout"]}


def paired_ratio(a: dict[str, Any], b: dict[str, Any], key: str = "round_seconds") -> float:
    """The median over rounds of a's time over b's in the same round (see `interleaved`)."""
    ratios = [x / y for x, y in zip(a[key], b[key], strict=True) if y]
    return round(statistics.median(ratios), 2) if ratios else float("inf")


def calibrate() -> float:
    """Seconds for a fixed 10M-step Python loop: how fast this shared machine is right now."""
    start = time.perf_counter()
    x = 0
    for i in range(10_000_000):
        x += i
    return round(time.perf_counter() - start, 3)


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(str(c) for c in row))
    Console(width=160).print(table)


def save(name: str, payload: dict[str, Any]) -> Path:
    """bench/results/<name>.json with the machine's description and speed."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({
        "benchmark": name, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg(), **payload,
    }, indent=2) + "\n")
    print(f"saved {path.relative_to(ROOT)}")
    return path


def settings_file(work: Path, archive: Path, transcripts: Path) -> Path:
    """A settings.toml that points the CLI at a benchmark's own archive."""
    path = work / f"settings-{archive.stem}.toml"
    path.write_text(f'[archive]\npath = "{archive}"\ntranscripts_dir = "{transcripts}"\n')
    return path


def fresh(path: Path) -> Path:
    """Remove a database and its WAL files so the next run starts from nothing."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path
