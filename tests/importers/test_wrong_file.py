"""An import of the wrong file (nothing in it of the format): one line, exit 2, not "Imported"."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.conftest import SMALL_SCRIPT, write_script
from tests.importers.test_x_import_types import _flat_line, _host_lines
from tests.test_cli import tweetchat


def _discord_export(path: Path) -> Path:
    """A DiscordChatExporter JSON export, indented over many lines as it writes them."""
    export = {"guild": {"id": "1", "name": "NHS"}, "channel": {"id": "2", "name": "chat"},
              "messages": [{"id": str(10 + n), "type": "Default",
                            "timestamp": "2026-11-04T20:05:00+00:00", "content": f"A{n} yes",
                            "author": {"id": "5", "name": "ann", "isBot": False}}
                           for n in range(3)], "messageCount": 3}
    path.write_bytes(orjson.dumps(export, option=orjson.OPT_INDENT_2))
    return path


def _binary(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 64)
    return path


def _deep_array(path: Path) -> Path:
    path.write_bytes(b"[" * 5000 + b"]" * 5000 + b"\n")
    return path


@pytest.mark.parametrize("platform, make, what", [
    ("x", _discord_export, "is a tweet"),
    ("mastodon", _binary, "is a Mastodon status"),
    ("bluesky", _deep_array, "is a Bluesky post"),
    ("x", _binary, "is a tweet"),
])
def test_a_file_of_another_format_is_refused_in_one_line(tmp_path: Path, platform: str,
                                                         make, what: str) -> None:
    script = write_script(tmp_path / "chats", SMALL_SCRIPT)
    file = make(tmp_path / "export.json")
    result = tweetchat(tmp_path, "import", platform, str(file), "--script", str(script))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Imported" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and what in lines[0] and str(file) in lines[0]


def test_a_few_bad_lines_among_tweets_still_import_listed(tmp_path: Path) -> None:
    script = write_script(tmp_path / "chats", SMALL_SCRIPT)
    file = tmp_path / "tweets.jsonl"
    file.write_bytes(b"\n".join([*map(orjson.dumps, _host_lines()), b"{not json",
                                 orjson.dumps(_flat_line())]) + b"\n")
    result = tweetchat(tmp_path, "import", "x", str(file), "--script", str(script))
    assert result.returncode == 0, result.stderr
    assert "Bad lines" in result.stdout and "line 2" in result.stdout
