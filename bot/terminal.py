"""What every `tweetchat` command shares, the platforms' own commands included.

The consoles, the --config option, user errors, settings loading and logging set-up.

It lives outside bot/cli/ because the CLI package adds the platforms' commands (through the
registry) and those commands use these helpers: inside the package, that would be a circle.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from bot.settings import Settings, load_settings

console = Console()
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default config/settings.toml).")
]


class UserError(Exception):
    """Raised by commands for a mistake the user can fix; printed as one line."""


def settings_from(config: Path | None) -> Settings:
    """The settings a command runs with (the file named by --config, else the default)."""
    return load_settings(config)


def setup_logging(verbose: bool = False) -> None:
    """Log through Rich on stderr; the chatty libraries only warn."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
        datefmt="[%X]", handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    for noisy in ("apscheduler", "discord", "aiohttp.access", "tzlocal", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
