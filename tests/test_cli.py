"""The `tweetchat` command as a person meets it: help with examples everywhere, one-line
errors with exit status 2 and never a traceback, secrets never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SMALL_SCRIPT, no_settings, write_script

ROOT = Path(__file__).resolve().parent.parent


def tweetchat(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
        "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "TWEETCHAT_CONFIG": str(no_settings(tmp_path)),
        "COLUMNS": "200",
        # This checkout's `bot`, not whichever one the venv's editable install points at.
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True,
                          text=True, env=environ, cwd=tmp_path, timeout=60)


def click_commands() -> list[tuple[list[str], Any]]:
    """Every command the user can run, as (its words after `tweetchat`, its click command)."""
    import typer.main

    from bot.cli import app

    found = []

    def walk(group: Any, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*prefix, name])
            else:
                found.append(([*prefix, name], command))

    walk(typer.main.get_command(app), [])
    return found


def click_groups() -> list[tuple[list[str], Any]]:
    """Every group of commands (`import`, `x` ...), as (its words, its click group)."""
    import typer.main

    from bot.cli import app

    found = []

    def walk(group: Any, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                found.append(([*prefix, name], command))
                walk(command, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return found


def commands() -> list[list[str]]:
    """Every command's words after `tweetchat`."""
    return [path for path, _ in click_commands()]


def test_every_command_has_help_with_examples(tmp_path: Path) -> None:
    missing = []
    groups = click_groups()
    assert {"import", "x", "bluesky", "mastodon"} <= {" ".join(p) for p, _ in groups}
    for path, command in [*click_commands(), *groups]:
        if "Examples" not in (command.help or ""):
            missing.append(" ".join(path))
    assert not missing, f"commands without examples in --help: {missing}"
    shown = tweetchat(tmp_path, "import", "--help").stdout  # as a person sees it
    assert "Examples" in shown and "tweetchat import x chat.jsonl --script" in shown
    assert {"check", "run", "start", "sessions", "transcript", "control", "config",
            "search"} <= {p[0] for p in commands()}


def test_help_paragraphs_are_wrapped_by_the_terminal_not_the_source() -> None:
    """Each prose paragraph of every command's help is one line for Rich to wrap.

    Typer keeps a docstring's line breaks: wrapped at 90 columns in the source, a paragraph
    came out ragged at 80 (a few words, a break, on every line). Examples stay as written.
    """
    ragged = []
    for path, command in click_commands():
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.splitlines()
            if len(lines) > 1 and not any(line.startswith((" ", "\b")) for line in lines):
                ragged.append(f"{' '.join(path)}: {lines[0][:40]}")
    assert not ragged, ragged


def test_help_reads_well_in_an_80_column_terminal(tmp_path: Path) -> None:
    """No line of a paragraph ends short of the width but its last (the ragged look)."""
    result = tweetchat(tmp_path, "forget", "--help", COLUMNS="80")
    assert result.returncode == 0, result.stderr
    paragraphs: list[list[str]] = [[]]
    for line in result.stdout.split("Examples:")[0].splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])  # Rich pads a blank line with spaces to the width
    body = [p for p in paragraphs if len(p) > 1 and not p[0].startswith("Usage")]
    assert body, result.stdout
    for lines in body:
        assert all(len(line) >= 60 for line in lines[:-1]), lines


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    undocumented = [" ".join(p) for p in commands() if f"tweetchat {' '.join(p)}" not in readme]
    assert not undocumented, f"add these to the README: {undocumented}"


def test_check_prints_occurrences_and_due_times(tmp_path: Path) -> None:
    result = tweetchat(tmp_path, "check", str(ROOT / "chats" / "nhssm.yaml"))
    assert result.returncode == 0, result.stderr
    assert "Next occurrences" in result.stdout and "UTC" in result.stdout
    assert result.stdout.count("Wed ") >= 10  # five occurrences, local and UTC
    assert "+5m" in result.stdout and "q1" in result.stdout


def test_broken_script_is_one_line_per_problem_exit_2(tmp_path: Path) -> None:
    bad = write_script(tmp_path, SMALL_SCRIPT.replace("title:", "titel:"))
    result = tweetchat(tmp_path, "check", str(bad))
    assert result.returncode == 2
    assert "test.yaml:2: unknown key 'titel'; did you mean 'title'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["start", "chats/missing.yaml", "--now"], "file not found"),
    (["start", "chats/test.yaml"], "add --now"),
    (["transcript", "99"], "there is no archive at"),
    (["transcript", "1", "--format", "pdf"], "--format pdf"),
    (["control", "pause", "--url", "http://127.0.0.1:9"], "cannot reach the bot"),
])
def test_user_mistakes_are_one_plain_line(tmp_path: Path, args, words) -> None:
    write_script(tmp_path / "chats")
    result = tweetchat(tmp_path, *args, MODERATOR_TOKEN="t0ken")
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 2


def test_bad_settings_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[web]\nport = 'eighty'\n")
    result = tweetchat(tmp_path, "config", "--config", str(config))
    assert result.returncode == 2
    assert "web.port" in result.stderr and "Traceback" not in result.stderr


def test_config_masks_every_secret(tmp_path: Path) -> None:
    secrets = {"MODERATOR_TOKEN": "mod-SECRET-1", "DISCORD_TOKEN": "disc-SECRET-2",
               "X_BEARER_TOKEN": "bearer-SECRET-3"}
    (tmp_path / ".env").write_text("X_API_KEY=key-SECRET-4\n")
    result = tweetchat(tmp_path, "config", **secrets)
    assert result.returncode == 0, result.stderr
    for value in [*secrets.values(), "key-SECRET-4"]:
        assert value not in result.stdout + result.stderr
    assert "set (hidden)" in result.stdout and "X_API_KEY" in result.stdout


def test_sessions_json_after_a_rehearsal(tmp_path: Path) -> None:
    script = write_script(tmp_path / "chats")
    run = tweetchat(tmp_path, "start", str(script), "--now", "--pace", "600",
                    "--platform", "memory", TWEETCHAT_PORT="0")
    assert run.returncode == 0, run.stderr
    listed = tweetchat(tmp_path, "sessions", "--json")
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and rows[0]["status"] == "ended" and rows[0]["rehearsal"] is True
    table = tweetchat(tmp_path, "sessions")
    assert "rehearsal" in table.stdout
    rendered = tweetchat(tmp_path, "transcript", str(rows[0]["id"]), "--format", "md",
                         "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "out" / "transcript.md").read_text().strip()


@pytest.mark.parametrize("args", [["transcript", "1"], ["certificate", "1", "web:jo1"]])
def test_a_command_run_from_another_folder_names_the_archive_it_did_not_find(
        tmp_path: Path, args: list[str]) -> None:
    """Run away from the bot's folder, the default archive path finds nothing: say so.

    Opening it would have made a new, empty archive there, and the command would have
    answered "no session 1" about that one.
    """
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    archive = elsewhere / "transcripts" / "archive.db"
    result = tweetchat(elsewhere, *args, TWEETCHAT_ARCHIVE=str(archive))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"there is no archive at {archive}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not archive.exists() and not archive.parent.exists()


def test_a_session_the_archive_lacks_is_named_with_the_archive(tmp_path: Path) -> None:
    assert tweetchat(tmp_path, "sessions").returncode == 0  # makes the (empty) archive
    result = tweetchat(tmp_path, "transcript", "99")
    assert result.returncode == 2
    assert f"no session 99 in {tmp_path / 'archive.db'}" in result.stderr
