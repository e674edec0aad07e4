"""What every `tweetchat` command shares, the platforms' own commands included.

The consoles, the --config option, user errors, settings loading, logging set-up and the
table a platform's `check` command prints.

It lives outside bot/cli/ because the CLI package adds the platforms' commands (through the
registry) and those commands use these helpers: inside the package, that would be a circle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from bot.settings import Settings

console = Console()
err_console = Console(stderr=True)

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

    archive = Archive(settings.archive.path)
    try:
        archive.session(session)
    except KeyError:
        raise UserError(f"no session {session}; list them with `tweetchat sessions`") from None
    finally:
        archive.close()


def setup_logging(verbose: bool = False) -> None:
    """Log through Rich on stderr; the chatty libraries only warn."""
    from rich.logging import RichHandler  # brings rich.traceback: only commands that log

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
        datefmt="[%X]", handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    for noisy in ("apscheduler", "discord", "aiohttp.access", "tzlocal", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def yes_no(ok: bool, detail: str) -> str:
    """A probe's answer for a check table: green yes or yellow no, then what the service said."""
    answer = "[green]yes[/green]" if ok else "[yellow]no[/yellow]"
    return f"{answer} - {escape(detail)}"


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
