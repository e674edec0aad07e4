"""`tweetchat import discord`: load DiscordChatExporter exports of past chats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.terminal import (
    ConfigOpt,
    UserError,
    console,
    sessions_cell,
    settings_from,
    user_markup,
)


def import_discord_command(
    exports: Annotated[list[Path], typer.Argument(
        help="DiscordChatExporter JSON files: the chat channel and its question threads.")],
    script: Annotated[Path, typer.Option(
        "--script", help="The chat's script (chats/<chat>.yaml): which chat, which questions.")],
    host: Annotated[list[str] | None, typer.Option(
        "--host", help="Another account that posted for the chat (name or id; repeatable).")
    ] = None,
    no_bot_host: Annotated[bool, typer.Option(
        "--no-bot-host", help="Don't treat bot accounts as the host (another bot was there).")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Import past chats from DiscordChatExporter JSON exports.

    Export the chat's channel and each question thread (DiscordChatExporter, format JSON),
    then import all the files together. Each chat found becomes a session attributed just
    as if the bot had hosted it live: the host's posts (the bot, or the script's host) are
    the questions; answers are placed by thread, A-tag and reply. Importing the same files
    again changes nothing.

    Examples:

      tweetchat import discord exports/nhssm.json exports/nhssm-Q*.json --script chats/nhssm.yaml

      tweetchat import discord export.json --script chats/nhssm.yaml --host "NHS Employers"
    """
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from bot.archive import Archive
    from bot.platforms.discord.export import ExportError
    from bot.platforms.discord.importer import import_discord
    from bot.script import load_script
    from bot.terminal_imports import advanced, flagged_line, import_policy

    loaded = load_script(script)  # a ScriptError is printed as file:line lines by main()
    missing = [p for p in exports if not p.is_file()]
    if missing:
        raise UserError(f"{missing[0]}: file not found; check the path")
    settings = settings_from(config)
    policy = import_policy(settings)
    archive = Archive(settings.archive.path)
    try:
        with Progress(
                SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                BarColumn(), TextColumn("{task.completed:,} messages"),
                TimeElapsedColumn(), console=console, transient=True,
                auto_refresh=False) as progress:
            task = progress.add_task(f"Importing {len(exports)} file(s)", total=None)
            report = import_discord(
                archive, exports, loaded,
                progress=lambda n: advanced(progress, task, n),
                extra_hosts=host or (), bots_are_hosts=not no_bot_host, policy=policy,
            )
    except ExportError as exc:
        raise UserError(f"{exc}; export the channel with DiscordChatExporter in JSON format "
                        "(--format Json)") from None
    finally:
        archive.close()

    table = Table(title=f"Imported into {user_markup(settings.archive.path)}",
                  title_justify="left")
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("Files", str(len(exports)))
    table.add_row("Messages read", f"{report.messages:,}")
    table.add_row("Host posts", f"{report.host_posts:,}")
    table.add_row("New or changed rows", f"{report.changed:,}")
    table.add_row("Sessions", sessions_cell(report.sessions, "none"))
    table.add_row("Flagged by moderation", flagged_line(report.flagged))
    console.print(table)
    if report.bad_lines:
        console.print(_not_stored(report.bad_lines), highlight=False)
    if not report.sessions:
        console.print(f"No host posts found, so no session was made. Pass the host's account "
                      f"with --host (the script's host is '{loaded.model.host}').",
                      highlight=False)


def _not_stored(numbers: list[int]) -> str:
    """The line naming messages that were read but could not be stored, and what to do.

    Numbers count content messages from the first file's first, in the order the files were
    given (the numbers the import itself uses).
    """
    from bot.terminal_imports import BAD_LINES_SHOWN

    shown = ", ".join(f"{n:,}" for n in numbers[:BAD_LINES_SHOWN])
    more = (f" and {len(numbers) - BAD_LINES_SHOWN:,} more"
            if len(numbers) > BAD_LINES_SHOWN else "")
    return (f"{len(numbers):,} message{'s' if len(numbers) > 1 else ''} not stored (message "
            f"{shown}{more}, counting from the first file's first message): "
            "the archive cannot hold their payload (nested deeper than 255 levels, or a "
            "number beyond 64 bits). Export the channel again with DiscordChatExporter, or "
            "fix those messages in the file, and import it again (what was stored is kept).")
