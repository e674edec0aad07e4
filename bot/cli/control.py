"""`tweetchat control` and `config`: act on the running bot, show the settings."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from bot.terminal import ConfigOpt, console, settings_from, user_markup


def control(
    command: Annotated[str, typer.Argument(help="pause, resume, skip, extend or stop.")],
    minutes: Annotated[float | None, typer.Argument(help="For extend: how many minutes.")] = None,
    chat: Annotated[str | None, typer.Option(help="Which chat, when several are live.")] = None,
    url: Annotated[str | None, typer.Option(help="The running bot (default from settings).")
                   ] = None,
    config: ConfigOpt = None,
) -> None:
    """Act on the live session of the running bot (through its control endpoint).

    pause holds every remaining post; resume moves them later by the pause; skip posts the
    next item now; extend N moves the remaining posts N minutes later; stop skips the
    remaining questions and posts the close now. Needs MODERATOR_TOKEN (or the token file
    the bot made on this machine).

    Examples:

      tweetchat control pause

      tweetchat control extend 5

      tweetchat control stop --chat nhssm
    """
    from bot.control_client import send_control

    settings = settings_from(config)
    detail = send_control(settings, command, minutes, chat=chat, url=url)
    console.print(user_markup(detail), highlight=False)


def show_config(config: ConfigOpt = None) -> None:
    """Print the effective settings, every secret masked.

    Examples:

      tweetchat config

      TWEETCHAT_PORT=9000 tweetchat config
    """
    settings = settings_from(config)
    console.print_json(orjson.dumps(settings.masked()).decode())
