"""A user's mistake outside the archive (settings, arguments, --out, --url): one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.platforms.discord.export_content import resolve_link
from bot.settings import SettingsError, load_settings
from tests.test_cli import ROOT, tweetchat


def _one_line(result, words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], result.stderr


NOT_UTF8 = b"[web]\nport = 8080\n# caf\xe9\n"


def test_a_settings_file_that_is_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_bytes(NOT_UTF8)
    _one_line(tweetchat(tmp_path, "config", "--config", str(config)), "is not UTF-8")
    _one_line(tweetchat(tmp_path, "sessions", TWEETCHAT_CONFIG=str(config)), "is not UTF-8")


@pytest.mark.parametrize("named", ["missing.toml", "a-folder"])
def test_tweetchat_config_naming_no_file_is_one_line(tmp_path: Path, named: str) -> None:
    (tmp_path / "a-folder").mkdir()
    path = tmp_path / named
    what = "does not exist" if named == "missing.toml" else "is not a file"
    _one_line(tweetchat(tmp_path, "sessions", TWEETCHAT_CONFIG=str(path)),
              f"TWEETCHAT_CONFIG names {path}, which {what}; set it to your settings file")


def test_tweetchat_config_in_dotenv_naming_no_file_is_one_line_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TWEETCHAT_CONFIG=gone/settings.toml\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "TWEETCHAT_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "bot", "config"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=60,
                            env={**env, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    _one_line(result, "TWEETCHAT_CONFIG names gone/settings.toml, which does not exist")


def test_config_option_wins_over_a_missing_tweetchat_config(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text("[web]\nport = 8123\n", encoding="utf-8")
    result = tweetchat(tmp_path, "config", "--config", str(config),
                       TWEETCHAT_CONFIG=str(tmp_path / "missing.toml"))
    assert result.returncode == 0, result.stderr
    assert "8123" in result.stdout


def test_no_settings_named_and_none_at_the_default_path_runs_on_defaults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` in a checkout without config/settings.toml (or elsewhere): the defaults."""
    monkeypatch.chdir(tmp_path)  # no config/settings.toml here
    settings = load_settings(environ={}, env_file=None)
    assert settings.source == "defaults" and settings.web.port == 8080
    with pytest.raises(SettingsError, match="TWEETCHAT_CONFIG names"):
        load_settings(environ={"TWEETCHAT_CONFIG": "config/settings.toml"}, env_file=None)


def test_a_dotenv_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"MODERATOR_TOKEN=caf\xe9\n")
    _one_line(tweetchat(tmp_path, "config"), ".env: byte 20 is not UTF-8")


@pytest.mark.parametrize("out", ["a-file.txt", "/dev/null"])
def test_transcript_out_that_is_not_a_folder(tmp_path: Path, out: str) -> None:
    (tmp_path / "a-file.txt").write_text("keep me\n")
    _one_line(tweetchat(tmp_path, "transcript", "1", "--out", out), "not a folder")
    assert (tmp_path / "a-file.txt").read_text() == "keep me\n"


def test_review_of_an_item_no_sqlite_integer_can_be(tmp_path: Path) -> None:
    _one_line(tweetchat(tmp_path, "review", "--decide", "99999999999999999999999=hide"),
              "no review item 99999999999999999999999")
    _one_line(tweetchat(tmp_path, "review", "--decide", "\u00b2=hide"), "ID=DECISION")


@pytest.mark.parametrize("args", [
    ["forget", "x:\udcff"], ["search", "x", "--chat", "\udcff"], ["sessions", "--chat", "\udcff"],
    ["search", "caf\udce9"],
])
def test_arguments_that_are_not_utf8(tmp_path: Path, args: list[str]) -> None:
    """Bytes from a Latin-1 terminal arrive as lone surrogates (PEP 383)."""
    _one_line(tweetchat(tmp_path, *args), "not UTF-8 text")


class _NotTheBot(BaseHTTPRequestHandler):
    """Any other web server at --url: HTML, JSON nested too deep, or a reply too long."""

    bodies = {"/html/api/control": b"<html>a web page</html>",
              "/deep/api/control": b"[" * 100_000 + b"]" * 100_000,
              "/long/api/control": b'{"detail": "' + b"x" * (1 << 20) + b'"}',
              "/list/api/control": b"[1, 2]"}

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = self.bodies.get(self.path, b"{}")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotTheBot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ["/html", "/deep", "/long", "/list"])
def test_control_at_a_server_that_is_not_the_bot(tmp_path: Path, other_server: str,
                                                 path: str) -> None:
    result = tweetchat(tmp_path, "control", "pause", "--url", other_server + path,
                       MODERATOR_TOKEN="t0ken")
    _one_line(result, "not as tweetchat does; check --url")


def test_a_moderator_token_file_that_is_not_utf8(tmp_path: Path) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    (transcripts / ".moderator-token").write_bytes(b"\xff\xfe token")
    result = tweetchat(tmp_path, "control", "pause", "--url", "http://127.0.0.1:9",
                       MODERATOR_TOKEN="")  # unset: the token is read from the file
    _one_line(result, "not UTF-8 text")


def test_an_attachment_path_in_a_symlink_loop_is_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert resolve_link("a/photo.png", tmp_path) == str(tmp_path / "a" / "photo.png")
    assert resolve_link("media/photo%00.png", tmp_path) == str(tmp_path / "media/photo\0.png")
    real = tmp_path / "media"
    real.mkdir()
    assert resolve_link("media/../media/p.png", tmp_path) == str(real / "p.png")
