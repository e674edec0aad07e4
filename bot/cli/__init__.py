"""The `tweetchat` command: parses, calls, prints. No business logic lives here.

One module per group of commands (run, sessions, control, search, moderation, imports,
certificate);
each platform's own commands (`tweetchat x check`) come from the platform registry. A
user's mistake (bad script, bad flag, missing token) is one red line naming what, where
and how to fix it, with exit status 2 and no traceback. A bug still gets its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from bot.cli import certificate, control, moderation, run, search, sessions
from bot.cli.imports import import_app
from bot.platforms import registry
from bot.settings import SettingsError
from bot.terminal import UserError, err_console

app = typer.Typer(
    name="tweetchat",
    help="Host scheduled hashtag chats: post the questions on time, collect every answer, "
    "moderate, and publish a threaded transcript.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

app.command()(run.check)
app.command()(run.run)
app.command()(run.start)
app.command()(sessions.sessions)
app.command()(sessions.transcript)
app.command()(control.control)
app.command("config")(control.show_config)
app.command()(search.search)
app.command()(moderation.review)
app.command()(moderation.forget)
app.command()(moderation.scan)
app.command()(certificate.certificate)
app.add_typer(import_app, name="import")
for _info in registry.PLATFORMS.values():
    if _info.cli is not None:
        app.add_typer(registry.load(_info.cli), name=_info.name)


def main() -> None:
    """Run the command; a user's mistake is one line and exit status 2, never a traceback."""
    from bot.control_client import ControlClientError
    from bot.core import BotError
    from bot.host import ControlError
    from bot.platforms.base import PlatformSetupError
    from bot.script import ScriptError

    try:
        status = app(standalone_mode=False)
    except ScriptError as exc:
        for issue in exc.issues:
            err_console.print(f"[red]{escape(str(issue))}[/red]", highlight=False,
                              soft_wrap=True)
        sys.exit(2)
    except (UserError, SettingsError, BotError, ControlError, PlatformSetupError,
            ControlClientError) as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
