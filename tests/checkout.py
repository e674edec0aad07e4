"""What a test run may not change: every file in the checkout, by size and mtime.

`make test` once left transcripts/scheduler.db (holding real jobs that `make run` then
picked up) and screenshots in the checkout. The session guard in conftest.py and
tests/security/test_checkout_clean.py compare these snapshots before and after.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Made by installing (make's venv, pip -e) or by Python itself, never by a test.
IGNORED_DIRS = {".git", ".venv", "__pycache__", "tweetchat.egg-info"}

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path = ROOT) -> Snapshot:
    """Every file under `root` (outside IGNORED_DIRS) -> (size, mtime in ns)."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for name in files:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            found[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or rewritten between two snapshots."""
    added = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    removed = [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    changed = [f"changed {p}" for p in sorted(before.keys() & after.keys())
               if before[p] != after[p]]
    return added + removed + changed

