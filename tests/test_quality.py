"""The conventions in DESIGN.md, enforced: ruff-clean everywhere, mypy-clean in bot/."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_ruff_is_clean() -> None:
    result = run("ruff", "check", "--no-cache", "bot", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    # The cache lives in tmp: tests never write into the checkout.
    result = run("mypy", "--cache-dir", str(Path(tempfile.gettempdir()) / "tweetchat-mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
