"""What every `tweetchat` command shares, the platforms' own commands included.

The consoles, the --config option, user errors, settings loading, logging set-up and the
table a platform's `check` command prints.

It lives outside bot/cli/ because the CLI package adds the platforms' commands (through the
registry) and those commands use these helpers: inside the package, that would be a circle.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, ConsoleRenderable
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.settings import Settings

# Emoji codes off: what people wrote (":smiley:" in a name, a path, a search) is printed
# as written, not turned into a picture.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

# What a terminal would obey rather than show: C0 controls but newline and tab, DEL, C1
# (ESC clears the screen or sets the window title, CSI moves the cursor), and the bidi
# overrides that reorder a line. Each becomes ONE visible character, so positions in the
# text (search matches) stay right: a C0 control its Unicode picture (ESC as U+241B), DEL
# U+2421, the rest U+FFFD.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def printable(text: object) -> str:
    """`text` with every terminal control replaced by one visible character (for Text())."""
    return _UNSAFE.sub(_shown, str(text))


def user_markup(text: object) -> str:
    """Text from a person, a script or a path, made safe inside Rich markup.

    Controls are made visible (see printable) and [brackets] escaped, so it prints exactly
    as written. Not directly before a tag: a backslash at its end would escape the tag
    (Rich's own rule); there, print user_text() instead.
    """
    # Rich's escape() covers a "[" that starts a tag; but a backslash before any other "["
    # is still eaten when the markup is read (a backslash and "[" came out as "[" alone),
    # so one more is added. Backslashes at the end are left as they are: escape() added
    # one to an odd run, which then printed.
    shown = printable(text)
    body = shown.rstrip("\\")
    return _BACKSLASH_BRACKET.sub(r"\\\g<0>", escape(body)) + shown[len(body):]


def user_text(text: object, style: str = "") -> Text:
    """Text from a person, a script or a path as a Rich Text (never read as markup)."""
    return Text(printable(text), style=style)


# A run of backslashes before a "[" that Rich will not read as a tag (its own pattern).
_BACKSLASH_BRACKET = re.compile(r"\\+(?=\[(?![a-z#/@][^[]*?\]))")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default config/settings.toml).")
]


class UserError(Exception):
    """Raised by commands for a mistake the user can fix; printed as one line."""


def settings_from(config: Path | None) -> Settings:
    """The settings a command runs with (the file named by --config, else the default)."""
    # Lazily, as every heavy import here: every command, `--help` included, imports this
    # module, and the settings bring pydantic (see tests/test_startup.py).
    from bot.settings import load_settings

    return load_settings(config)


def require_session(settings: Settings, session: int) -> None:
    """Refuse, as a user's mistake, a session id the archive does not hold."""
    from bot.archive import Archive  # lazily: every command imports this module

    path = Path(settings.archive.path)
    if not path.exists():
        # Opening would make a new, empty archive here: a command run from another folder
        # would then answer "no session" about the wrong file.
        raise UserError(f"there is no archive at {printable(str(path.resolve()))}; run this "
                        "from the folder the bot runs in, or set [archive] path in the "
                        "settings")
    archive = Archive(path)
    try:
        archive.session(session)
    except KeyError:
        raise UserError(f"no session {session} in {printable(str(path))}; list them with "
                        "`tweetchat sessions`") from None
    finally:
        archive.close()


def require_chat(settings: Settings, archive: Archive, chat: str) -> None:
    """Refuse, as a user's mistake, a chat neither the archive nor chats/ has heard of.

    A chat with a script in chats/ but no session yet is known: it lists nothing.
    """
    from bot.script import load_scripts

    known = set(archive.chat_ids())
    if chat in known:
        return
    known.update(s.id for s in load_scripts(settings.chats.dir)[0])
    if chat not in known:
        listed = ", ".join(sorted(known)) or "none yet"
        raise UserError(f"no chat {chat!r} in the archive or {settings.chats.dir}/; "
                        f"known chats: {listed}")


def sessions_cell(ids: Sequence[int], none: str) -> str:
    """An import summary's sessions: how many, then their ids ("2 (ids 3, 4)"), or `none`.

    The ids alone ("3") read as a count.
    """
    if not ids:
        return none
    return f"{len(ids)} (id{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))})"


def setup_logging(verbose: bool = False) -> None:
    """Log through Rich on stderr; the chatty libraries only warn."""
    from rich.logging import RichHandler  # brings rich.traceback: only commands that log

    class PrintableHandler(RichHandler):
        """Rich's log handler, with a log line's controls shown, not obeyed.

        Log lines name participants, Discord users and what platforms answered.
        """

        def render_message(self, record: logging.LogRecord, message: str) -> ConsoleRenderable:
            return super().render_message(record, printable(message))

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
        datefmt="[%X]", handlers=[PrintableHandler(console=err_console, show_path=False)],
        force=True,
    )
    for noisy in ("apscheduler", "discord", "aiohttp.access", "tzlocal", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def yes_no(ok: bool, detail: str) -> str:
    """A probe's answer for a check table: green yes or yellow no, then what the service said."""
    answer = "[green]yes[/green]" if ok else "[yellow]no[/yellow]"
    return f"{answer} - {user_markup(detail)}"


def check_table(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    """The two-column table a platform's `check` command prints (values already escaped)."""
    table = Table(title=title, title_justify="left", show_header=False)
    for label, value in rows:
        table.add_row(label, value)
    return table


def print_check(title: str, rows: Sequence[tuple[str, str]], *, ok: bool) -> None:
    """Print a check's table; exit status 1 when posting works but collecting does not."""
    console.print(check_table(title, rows))
    if not ok:
        raise typer.Exit(1)
