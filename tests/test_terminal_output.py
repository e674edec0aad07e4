"""What people, scripts and paths hold reaches the terminal as written, never as orders:
no Rich markup ("[/]" in a title crashed `check` and `start`), no emoji codes (":smiley:"
became a picture), no escape sequences (an imported message cleared the screen in
`search`, set the window title in `review`)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.archive import Archive, moderation_store
from bot.importers.common import ImportReport
from bot.records import Author, Event, Message
from bot.terminal import console, err_console, printable, user_markup, user_text
from bot.terminal_imports import print_report
from tests.conftest import chat_script, write_script
from tests.test_cli import ROOT, tweetchat

# A terminal obeys these: C0 but newline, DEL, C1 (ESC and CSI among them), bidi overrides.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
HOSTILE = "A1 \x1b[2J\x1b]0;pwned\x07 [red]x[/] :smiley: \x9b31m \u202eevil"
_MARKUPISH = st.text(st.sampled_from("[]/\\:abc smiley#@=\x1b\x07\x9b\u202e\n\t\r\x00"),
                     max_size=40)


def rendered(*objects: object) -> str:
    """What a real Rich console (a wide terminal without colours) writes for the objects."""
    out = io.StringIO()
    Console(file=out, width=400, color_system=None, emoji=False, highlight=False,
            force_terminal=True).print(*objects, soft_wrap=True)
    return out.getvalue()


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(), _MARKUPISH),
       before=st.sampled_from(["", "[bold]error:[/bold] ", "x "]),
       after=st.sampled_from(["", " (more)", "; [green]fix[/green]"]))
def test_any_text_prints_as_written_with_no_control_left(
    text: str, before: str, after: str
) -> None:
    out = rendered(f"{before}{user_markup(text)}{after}")
    assert not UNSAFE.search(out.replace("\t", "")), repr(out)
    # Every character shown, one for one (Rich turns tabs into spaces, and may add a line end).
    expected = f"{rendered(before).strip()}{printable(text)}{rendered(after).rstrip()}"
    assert "".join(out.split()) == "".join(expected.split())


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(), _MARKUPISH))
def test_any_text_in_a_table_cell_or_a_styled_text_prints_as_written(text: str) -> None:
    # Rich measures a tab as one column in a cell (so cuts it off) and drops a cell of
    # only zero-width characters: neither is what this is about.
    text = "x" + text.replace("\t", " ")
    table = Table("A", box=None, show_header=False)
    table.add_row(user_markup(text))
    table.add_row(user_text(text, "red"))
    out = rendered(table)
    assert not UNSAFE.search(out.replace("\t", "")), repr(out)
    assert "".join(out.split()) == "".join(printable(text).split()) * 2


@given(text=st.text())
def test_the_plain_form_keeps_each_position(text: str) -> None:
    """Search matches are styled by position in the snippet: one character stays one."""
    shown = printable(text)
    assert len(shown) == len(text)
    assert not UNSAFE.search(shown.replace("\t", ""))
    assert all(a == b for a, b in zip(shown, text, strict=True) if not UNSAFE.match(b))


def test_a_table_of_hostile_rows_renders_them_visibly() -> None:
    table = Table("Author", "Text")
    table.add_row(user_markup("[bold]Jo\x1b]0;t\x07"), user_markup(HOSTILE))
    table.add_row(Text(printable(HOSTILE)), "")
    out = rendered(table)
    assert "\x1b" not in out.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert "␛[2J" in out and "␛]0;pwned␇" in out and "[red]x[/]" in out
    assert ":smiley:" in out and "[bold]Jo" in out


def test_the_commands_consoles_leave_emoji_codes_alone() -> None:
    for each in (console, err_console):
        with each.capture() as captured:
            each.print("x::smiley: :thumbs_up:")
        assert captured.get().strip() == "x::smiley: :thumbs_up:"


def test_check_and_start_print_a_title_with_markup_as_written(tmp_path: Path) -> None:
    title = '"#Chat [/] [red]x :smiley: \\e]0;pwned\\a"'
    script = write_script(tmp_path / "chats", chat_script(title=title))
    checked = tweetchat(tmp_path, "check", str(script))
    assert checked.returncode == 0, checked.stderr
    assert "#Chat [/] [red]x :smiley: ␛]0;pwned␇" in checked.stdout
    assert "\x1b" not in checked.stdout
    started = tweetchat(tmp_path, "start", str(script), "--now", "--pace", "600",
                        "--platform", "memory", TWEETCHAT_PORT="0")
    assert started.returncode == 0, started.stderr
    assert "#Chat [/] [red]x :smiley: ␛]0;pwned␇ (rehearsal" in started.stdout


def test_a_path_with_brackets_is_printed_as_written(tmp_path: Path) -> None:
    script = write_script(tmp_path / "a[", name="b].yaml")
    checked = tweetchat(tmp_path, "check", str(script))
    assert checked.returncode == 0, checked.stderr
    assert f"OK {script}:" in checked.stdout
    missing = tweetchat(tmp_path, "check", str(tmp_path / "[red]gone[/red].yaml"))
    assert missing.returncode == 2 and "[red]gone[/red].yaml:1: file not found" in missing.stderr


def test_an_error_line_keeps_emoji_codes(tmp_path: Path) -> None:
    done = tweetchat(tmp_path, "forget", "x::smiley:")
    assert done.returncode == 2
    assert ":smiley:" in done.stderr and "😃" not in done.stderr


def _hostile_archive(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.db")
    sid = archive.create_session(
        chat_id="nhssm", title="NHS", hashtag="#NHSSM", timezone="Europe/London",
        scheduled_start=START, duration_minutes=60, platforms=["web"], items=[])
    message = Message("web", "1", Author("web", "jo", "Jo\x1b]0;owned\x07[b]"), HOSTILE, START)
    archive.record_events([Event("created", "web", "1", START, message)],
                          session_id=sid, chat_id="nhssm")
    moderation_store.add_events(archive, [{
        "platform": "web", "message_id": "1", "session_id": sid, "check_name": "words",
        "action": "hold", "spans": [], "reason": "test", "status": "open", "actor": "bot",
        "at": START}])
    archive.close()


def test_search_and_review_show_escape_sequences_without_obeying_them(tmp_path: Path) -> None:
    _hostile_archive(tmp_path)
    for command in (["search", "pwned"], ["review"]):
        done = tweetchat(tmp_path, *command, MODERATOR_TOKEN="t0ken")
        assert done.returncode == 0, done.stderr
        assert not UNSAFE.search(done.stdout.replace("\t", "")), repr(done.stdout)
        assert "␛[2J" in done.stdout and "Jo␛]0;owned␇[b]" in done.stdout, done.stdout


def test_an_import_report_names_a_file_with_brackets_as_written(tmp_path: Path) -> None:
    """`import x "h/[red]chat[blink].jsonl"` reported "Imported chat.jsonl"."""
    with console.capture() as captured:
        print_report(tmp_path / "[red]chat[blink]\x1b[2J.jsonl", tmp_path / "a[/]b.db",
                     ImportReport(read=1, messages=1), "retweets", "none")
    out = "".join(captured.get().split())  # the title wraps at the table's width
    assert "Imported[red]chat[blink]␛[2J.jsonlinto" in out and "a[/]b.db" in out


def test_a_log_line_shows_controls_without_obeying_them() -> None:
    code = ("import logging; from bot.terminal import setup_logging; setup_logging(); "
            "logging.getLogger('bot.x').warning('refused /chat from %s', "
            "'jo\\x1b]0;pwned\\x07')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "jo␛]0;pwned␇" in done.stderr and "\x1b]" not in done.stderr, done.stderr
