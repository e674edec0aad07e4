"""The `tweetchat` command: parses, calls, prints. No business logic lives here.

One module per group of commands (run, sessions, control, search, moderation, imports,
certificate, compact);
each platform's own commands (`tweetchat x check`) come from the platform registry. A
user's mistake (bad script, bad flag, missing token) is one red line naming what, where
and how to fix it, with exit status 2 and no traceback. A bug still gets its traceback.
"""

from __future__ import annotations

import inspect
import sys
from typing import TYPE_CHECKING, Annotated, cast

import typer

from bot import quick_exit
from bot.cli import certificate, compact, control, moderation, run, search, sessions
from bot.cli.imports import import_app
from bot.platforms import registry
from bot.terminal import UserError, err_console, user_markup, user_text

if TYPE_CHECKING:
    from bot.script import ScriptError

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
app.command()(compact.compact)
app.add_typer(import_app, name="import")
for _info in registry.PLATFORMS.values():
    if _info.cli is not None:
        app.add_typer(registry.load(_info.cli), name=_info.name)


def reflowed(doc: str) -> str:
    """A command's docstring with each paragraph on one line; indented lines kept as they are.

    Typer's help keeps a docstring's line breaks: a paragraph wrapped at 90 columns in the
    source came out ragged in an 80-column terminal (a few words, then a break, on every
    line). Joined, the terminal wraps it. A paragraph with an indented line (an example,
    a list) is left as written.
    """
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(
        p if any(line.startswith((" ", "\b")) for line in p.splitlines())
        else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs)


def _reflow_help(typer_app: typer.Typer) -> None:
    """Every command's help (this app's and its groups', the platforms' too) reflowed."""
    for command in typer_app.registered_commands:
        if command.help is None and command.callback is not None and command.callback.__doc__:
            command.help = reflowed(command.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_reflow_help(app)


# A user's mistake from deeper down: (module, exception class). An exception of one of these
# can only be raised once its module is loaded, so it is looked up in sys.modules rather than
# imported here: `tweetchat import x` need not load the scheduler, aiohttp and the bot's core
# (about a third of a second at start-up, on every command), nor `--help` the settings.
_USER_ERRORS = (
    ("bot.settings", "SettingsError"),
    ("bot.archive.opening", "ArchiveError"),
    ("bot.core", "BotError"),
    ("bot.control_client", "ControlClientError"),
    ("bot.host", "ControlError"),
    ("bot.platforms.base", "PlatformSetupError"),
)


def _raised_by(exc: BaseException, module_name: str, class_name: str) -> bool:
    """`exc` is a `module_name.class_name`, looked up only if that module is loaded."""
    module = sys.modules.get(module_name)
    return module is not None and isinstance(exc, getattr(module, class_name))


def _is_user_error(exc: BaseException) -> bool:
    """A user's mistake: ours, or one reported by a loaded module (see _USER_ERRORS)."""
    return isinstance(exc, UserError) or any(
        _raised_by(exc, module_name, class_name) for module_name, class_name in _USER_ERRORS)


def _user_error(exc: BaseException) -> BaseException | None:
    """What to print as one line for `exc`, or None: a bug, which keeps its traceback.

    Besides the user's mistakes: SQLite finding the archive damaged, locked or its disk
    full, in whatever command and wherever in it (bot.archive.opening names the file). Not
    loaded, the archive was never opened, so the error is not the archive's.
    """
    if _is_user_error(exc):
        return exc
    opening = sys.modules.get("bot.archive.opening")
    return None if opening is None else cast("BaseException | None",
                                             opening.met_in_archive(exc))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"tweetchat {version('tweetchat')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            typer.echo("tweetchat (not installed)")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Host scheduled hashtag chats (the options that come before any command)."""


def main() -> None:
    """Run the command; a user's mistake is one line and exit status 2, never a traceback."""
    quick_exit.process_entry()
    try:
        status = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:
        # A chat script's problems, each as file:line (bot.script is loaded only by the
        # commands that read a script: see _USER_ERRORS).
        if _raised_by(exc, "bot.script", "ScriptError"):
            for issue in cast("ScriptError", exc).issues:
                err_console.print(user_text(issue, "red"), highlight=False,
                                  soft_wrap=True)
            sys.exit(2)
        told = _user_error(exc)
        if told is not None:
            err_console.print(f"[red]error:[/red] {user_markup(told)}", highlight=False,
                              soft_wrap=True)
            sys.exit(2)
        if isinstance(exc, typer.TyperException):
            # Typer's own (vendored) click errors: an unknown command or option, a bad
            # value. One line, as every user mistake, instead of a traceback.
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            message = " ".join(message.split()).rstrip(".")
            if not message:  # `tweetchat` alone: the help was printed
                sys.exit(2)
            err_console.print(f"[red]error:[/red] {user_markup(message)}; see tweetchat --help",
                              highlight=False, soft_wrap=True)
            sys.exit(2)
        raise
    quick_exit.finish(status if isinstance(status, int) else 0)  # if the command asked to
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
