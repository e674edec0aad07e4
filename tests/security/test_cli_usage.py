"""Finding 10 (CLI part) of issue 12: an unknown command or option, or a bad value, is one
line and exit status 2, never a Click traceback; `tweetchat --version` answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import tweetchat


@pytest.mark.parametrize(("args", "words"), [
    (["bogus"], "No such command 'bogus'"),
    (["check", "--bogus", "x.yaml"], "No such option: --bogus"),
    (["check", "x.yaml", "--count", "many"], "Invalid value for '--count'"),
    (["transcript", "not-a-number"], "Invalid value"),
])
def test_usage_mistakes_are_one_line_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    result = tweetchat(tmp_path, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_version(tmp_path: Path) -> None:
    result = tweetchat(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("tweetchat ") and result.stdout.split()[1][0].isdigit()
