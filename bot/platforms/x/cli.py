"""`tweetchat x check` and `tweetchat import x`: the X commands. Parse, call, print."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.terminal import ConfigOpt, UserError, console, settings_from, setup_logging

BAD_LINES_SHOWN = 20


x_app = typer.Typer(help="X (Twitter): check the keys and the access level.",
                    no_args_is_help=True)


@x_app.command("check")
def x_check(
    hashtag: Annotated[str, typer.Option(help="Probe search with this hashtag.")] = "",
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Check the five X keys: which account posts, and whether this access level can
    search recent tweets (needed to collect replies live; see docs/x.md).

    Exit status 0 when posting and search both work, 1 when only posting does, 2 when the
    keys are missing or rejected.

    Examples:

      tweetchat x check

      tweetchat x check --hashtag "#NHSSM"
    """
    from bot.platforms.x.client import XCredentials, check_credentials

    setup_logging(verbose)
    settings = settings_from(config)
    credentials = XCredentials.from_secrets(settings.secrets)
    report = asyncio.run(check_credentials(credentials, hashtag=hashtag,
                                           base_url=settings.x.api_base))
    table = Table(title="X", title_justify="left", show_header=False)
    table.add_row("API", settings.x.api_base)
    table.add_row("Posting as", f"@{report.handle} ({report.name}, id {report.user_id})")
    host = settings.x.host_account.lstrip("@")
    if host and host.lower() != report.handle.lower():
        table.add_row("Host account", f"[yellow]@{host} in settings: not this account[/yellow]")
    search = "[green]yes[/green]" if report.can_search else "[yellow]no[/yellow]"
    table.add_row("Can search", f"{search} - {report.search_detail}")
    console.print(table)
    if not report.can_search:
        console.print("Posting works, but replies cannot be collected live at this access "
                      "level. After each chat, collect it with twarc2 and run "
                      "`tweetchat import x FILE.jsonl --script chats/<chat>.yaml`.",
                      highlight=False)
        raise typer.Exit(1)


def import_x_command(
    file: Annotated[Path, typer.Argument(help="JSON lines: twarc2 pages, flattened twarc2 "
                                         "tweets or v1.1 tweets (mixed is fine).")],
    script: Annotated[Path, typer.Option("--script", help="The chat script the tweets "
                                         "belong to (chats/<chat>.yaml).")],
    config: ConfigOpt = None,
    host: Annotated[list[str] | None, typer.Option(
        "--host", help="Another account that posted for the chat, a co-host (handle or id; "
        "repeatable).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Import archived tweets into the archive: the host's posts become sessions (by the
    script's host account and Q tags) and every answer is attributed as if hosted live.
    Lines that cannot be read are counted and listed; importing twice changes nothing.

    Examples:

      twarc2 search "#NHSSM" nhssm.jsonl && tweetchat import x nhssm.jsonl --script chats/nhssm.yaml

      tweetchat import x old-2013-chat.jsonl --script chats/nhssm.yaml

      tweetchat import x chat.jsonl --script chats/nhssm.yaml --host NHSEmployers --host jo_cohost
    """
    from bot.archive import Archive
    from bot.platforms.x.importer import NotTweets, import_x
    from bot.script import load_script

    setup_logging(verbose)
    if not file.is_file():
        raise UserError(f"{file}: no such file; give the path of a .jsonl file of tweets")
    settings = settings_from(config)
    chat = load_script(script)
    archive = Archive(settings.archive.path)
    columns = (TextColumn("[bold]importing[/bold] {task.fields[name]}"), BarColumn(),
               DownloadColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("import", total=file.stat().st_size, name=file.name)
            report = import_x(archive, file, chat,
                              lambda n: progress.advance(task, n),
                              host_accounts=[settings.x.host_account, *(host or ())])
    except NotTweets as exc:
        raise UserError(f"{file}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{file}: cannot read it ({exc.strerror or exc}); check the path "
                        "and permissions") from None
    finally:
        archive.close()

    table = Table(title=f"Imported {file.name} into {settings.archive.path}",
                  title_justify="left", show_header=False)
    table.add_row("Lines read", f"{report.read:,}")
    table.add_row("Messages", f"{report.messages:,} ({report.host_posts:,} by the host)")
    table.add_row("New or changed", f"{report.changed:,}")
    table.add_row("Left out", f"{report.skipped:,} (retweets, empty pages)")
    bad = report.bad_lines
    shown = ", ".join(str(n) for n in bad[:BAD_LINES_SHOWN])
    more = f" and {len(bad) - BAD_LINES_SHOWN:,} more" if len(bad) > BAD_LINES_SHOWN else ""
    where = f" (line{'s' if len(bad) > 1 else ''} {shown}{more})" if bad else ""
    table.add_row("Bad lines", f"{len(bad):,}{where}")
    table.add_row("Sessions", ", ".join(str(s) for s in report.sessions) or
                  "none (no posts by the host account found; check platform_settings.x."
                  "host_account in the script or [x] host_account in the settings)")
    console.print(table)
