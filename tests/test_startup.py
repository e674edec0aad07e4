"""What `tweetchat` imports before it does anything: no command pays for another's libraries.

Read from `python -X importtime -m bot ...`, the command as a user runs it: the list of
modules the interpreter loaded is deterministic, unlike the time they took (the time is
bench/bench_startup.py's to measure).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SMALL_SCRIPT, no_settings, write_script

ROOT = Path(__file__).resolve().parent.parent

# Each is a tenth of a second or more of start-up, with what it brings in.
SETTINGS_AND_ARCHIVE = ("pydantic", "bot.settings", "sqlite_utils", "bot.archive")
SCRIPT_AND_IMPORT = ("yaml", "bot.script", "bot.importers.common", "bot.terminal_imports",
                     "rich.progress")
LIVE_BOT = ("asyncio", "rich.logging", "bot.app", "bot.core")


def loaded_modules(tmp_path: Path, *args: str) -> set[str]:
    """Every module `python -m bot ARGS` imported, read from -X importtime's report."""
    env = {
        **os.environ,
        "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
        "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
        "PYTHONPATH": str(ROOT),  # this checkout's `bot`
    }
    env.pop("PYTHONIMPORTTIME", None)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", *args],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    # "import time: <self us> | <cumulative us> | <indented module name>"
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


def test_the_report_is_read(tmp_path: Path) -> None:
    """The reader sees what every command imports (else the tests below prove nothing)."""
    seen = loaded_modules(tmp_path, "--help")
    assert {"typer", "bot.cli", "bot.terminal", "bot.platforms.registry"} <= seen


def test_help_loads_no_settings_archive_script_or_bot(tmp_path: Path) -> None:
    seen = loaded_modules(tmp_path, "--help")
    assert seen.isdisjoint(SETTINGS_AND_ARCHIVE + SCRIPT_AND_IMPORT + LIVE_BOT), \
        sorted(seen & set(SETTINGS_AND_ARCHIVE + SCRIPT_AND_IMPORT + LIVE_BOT))


@pytest.mark.parametrize("group", ["import", "x", "bluesky", "mastodon"])
def test_a_group_s_help_loads_no_importer(tmp_path: Path, group: str) -> None:
    """Listing a platform's commands (their help) needs none of the import pipeline.

    (Typer itself brings pydantic here, to read the group's options: not ours to cut.)
    """
    unwanted = set(SETTINGS_AND_ARCHIVE + SCRIPT_AND_IMPORT + LIVE_BOT) - {"pydantic"}
    seen = loaded_modules(tmp_path, group, "--help")
    assert seen.isdisjoint(unwanted), sorted(seen & unwanted)


def test_sessions_loads_the_archive_but_no_script_importer_or_event_loop(tmp_path: Path
                                                                         ) -> None:
    seen = loaded_modules(tmp_path, "sessions")
    assert set(SETTINGS_AND_ARCHIVE) <= seen  # what it needs, so the run was real
    assert seen.isdisjoint(SCRIPT_AND_IMPORT + LIVE_BOT), \
        sorted(seen & set(SCRIPT_AND_IMPORT + LIVE_BOT))


def test_import_x_loads_its_pipeline_but_not_the_event_loop(tmp_path: Path) -> None:
    script = write_script(tmp_path, SMALL_SCRIPT)
    tweets = tmp_path / "none.jsonl"
    tweets.write_text("")
    seen = loaded_modules(tmp_path, "import", "x", str(tweets), "--script", str(script))
    assert {"bot.importers.common", "bot.platforms.x.importer"} <= seen
    # Another platform's importer, the scheduler's event loop and the bot stay unloaded.
    others = ("asyncio", "bot.app", "bot.core", "bot.platforms.discord.importer",
              "bot.platforms.bluesky.importer", "bot.platforms.mastodon.importer")
    assert seen.isdisjoint(others), sorted(seen & set(others))
