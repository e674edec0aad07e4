"""`tweetchat x check` and `tweetchat import x`: the X commands. Parse, call, print."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bot.terminal import (
    ConfigOpt,
    UserError,
    check_table,
    console,
    settings_from,
    setup_logging,
    user_markup,
    yes_no,
)

if TYPE_CHECKING:
    from bot.script import ChatScript
    from bot.settings import Settings



x_app = typer.Typer(help="""X (Twitter): check the keys and the access level.

Examples:

  tweetchat x check

  tweetchat x check --chat chats/nhssm.yaml --replies 300
""", no_args_is_help=True)


@x_app.command("check")
def x_check(
    hashtag: Annotated[str, typer.Option(help="Probe search with this hashtag.")] = "",
    chat: Annotated[Path | None, typer.Option(
        "--chat", help="A chat script: show what one session of it costs on X.")] = None,
    replies: Annotated[int, typer.Option(
        min=0, max=1_000_000, help="Replies you expect per session (for the cost).")] = 200,
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Check the five X keys: which account posts, its access level (posting needs
    read-write), whether search works (needed to collect replies live; see docs/x.md),
    and with --chat what one session costs at X's pay-per-use prices.

    Exit status 0 when posting and search both work, 1 when only posting does, 2 when the
    keys are missing, rejected or read-only.

    Examples:

      tweetchat x check

      tweetchat x check --hashtag "#NHSSM"

      tweetchat x check --chat chats/nhssm.yaml --replies 300
    """
    import asyncio

    from bot.platforms.x.client import XCredentials, check_credentials

    setup_logging(verbose)
    settings = settings_from(config)
    script = _load_chat(chat) if chat is not None else None
    credentials = XCredentials.from_secrets(settings.secrets)
    tag = hashtag or (script.hashtag if script is not None else "")
    report = asyncio.run(check_credentials(credentials, hashtag=tag,
                                           base_url=settings.x.api_base))
    rows = [("API", user_markup(settings.x.api_base)),
            ("Posting as", user_markup(f"@{report.handle} ({report.name}, id {report.user_id})"))]
    host = settings.x.host_account.lstrip("@")
    if host and host.lower() != report.handle.lower():
        rows.append(("Host account",
                     f"[yellow]@{user_markup(host)} in settings: not this account[/yellow]"))
    level = report.access_level or "not reported"
    rows.append(("Access level", f"[red]{level}: cannot post[/red]" if level == "read"
                 else user_markup(level)))
    rows.append(("Can search", yes_no(report.can_search, report.search_detail)))
    console.print(check_table("X", rows))
    if script is not None:
        console.print(cost_table(script, settings, replies))
    if report.access_level == "read":
        raise UserError("the access token is read-only; set the app to 'Read and write', "
                        "regenerate the access token and secret (docs/x.md, step 2)")
    if not report.can_search:
        console.print("Posting works, but replies cannot be collected live at this access "
                      "level. After each chat, collect it with twarc2 and run "
                      "`tweetchat import x FILE.jsonl --script chats/<chat>.yaml`.",
                      highlight=False)
        raise typer.Exit(1)


def _load_chat(path: Path) -> ChatScript:
    from bot.script import ScriptError, load_script

    try:
        return load_script(path)
    except ScriptError as exc:
        raise UserError(f"{path}: not a usable chat script ({exc.issues[0]}); "
                        f"`tweetchat check {path}` lists every problem") from None


def cost_table(script: ChatScript, settings: Settings, replies: int) -> Table:
    """One session's expected bill on X at today's pay-per-use rates."""
    from bot.platforms.x.pricing import (
        CREATE_POST_USD,
        CREATE_POST_WITH_URL_USD,
        READ_POST_USD,
        estimate,
    )
    from bot.platforms.x.text import with_hashtag
    from bot.reminders import reminder_text
    from bot.repeats import unique_text

    start = datetime.now(UTC)
    local = start.astimezone(script.zone)
    texts = [with_hashtag(unique_text(script.model.repeat_text, item.text, local, 1),
                          script.hashtag) for item in script.timeline()]
    public = settings.web.public_url
    texts += [reminder_text(script, start, r.total_seconds(), public) for r in script.reminders]
    x_settings = script.model.platform_settings.get("x", {})
    if public and str(x_settings.get("share_transcript", True)).lower() not in ("false", "0"):
        texts.append(f"The transcript of {script.title} is up: {public}/archive/1")
    poll = float(x_settings.get("poll_seconds") or settings.x.poll_seconds)
    cost = estimate(texts, duration_seconds=script.duration.total_seconds(),
                    poll_seconds=poll, expected_replies=replies)
    table = Table(title=f"One session of {user_markup(script.title)} on X (pay-per-use)",
                  title_justify="left", show_header=False)
    table.add_row("Posts", f"{cost.posts} ({cost.posts_with_url} with a URL)")
    table.add_row("Posting", f"${cost.posting_usd:.2f} (${CREATE_POST_USD:.3f} a post, "
                  f"${CREATE_POST_WITH_URL_USD:.3f} with a URL)")
    table.add_row("Searches", f"{cost.searches:,} at one poll every {poll:g} s "
                  "(the 15-minute budget, not charged)")
    table.add_row("Reading", f"${cost.reading_usd:.2f} for {cost.expected_reads:,} replies "
                  f"(${READ_POST_USD:.3f} a post read, once a day)")
    table.add_row("Total", f"[bold]${cost.total_usd:.2f}[/bold] a session; X's Developer "
                  "Console has the current rates")
    return table


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
    from bot.importers.common import WrongFile, refuse_wrong_file
    from bot.platforms.x.importer import NotTweets, import_x
    from bot.script import load_script
    from bot.terminal_imports import import_policy, print_report, run_import

    setup_logging(verbose)
    if not file.is_file():
        raise UserError(f"{file}: no such file; give the path of a .jsonl file of tweets")
    settings = settings_from(config)
    chat = load_script(script)
    policy = import_policy(settings)
    archive = Archive(settings.archive.path)
    accounts = [settings.x.host_account, *(host or ())]
    try:
        report = run_import(file, lambda advance: import_x(archive, file, chat, advance,
                                                           host_accounts=accounts,
                                                           policy=policy))
        refuse_wrong_file(report, file, "a tweet (twarc2 JSON lines, or v1.1 tweets)")
    except WrongFile as exc:
        raise UserError(str(exc)) from None
    except NotTweets as exc:
        raise UserError(f"{file}: {exc}") from None
    finally:
        archive.close()
    print_report(file, settings.archive.path, report, "retweets, empty pages",
                 "none (no posts by the host account found; check platform_settings.x."
                 "host_account in the script or [x] host_account in the settings)")
