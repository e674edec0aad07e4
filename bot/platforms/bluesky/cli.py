"""`tweetchat bluesky check` and `tweetchat import bluesky`: parse, call, print."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from bot.terminal import ConfigOpt, print_check, settings_from, setup_logging, yes_no

bluesky_app = typer.Typer(help="""Bluesky: check the handle and app password.

Examples:

  tweetchat bluesky check

  tweetchat bluesky check --hashtag "#NHSSM"
""", no_args_is_help=True)


@bluesky_app.command("check")
def bluesky_check(
    hashtag: Annotated[str, typer.Option(help="Probe search with this hashtag.")] = "",
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Log in with BLUESKY_HANDLE and BLUESKY_APP_PASSWORD and report which account posts
    and whether hashtag search answers (needed to collect replies), and whether the app
    password reaches direct messages (private crisis signposts; see docs/bluesky.md).

    Exit status 0 when both work, 1 when only posting does, 2 when the login fails.

    Examples:

      tweetchat bluesky check

      tweetchat bluesky check --hashtag "#NHSSM"
    """
    import asyncio

    from bot.platforms.bluesky.client import BlueskyCredentials, check_credentials

    setup_logging(verbose)
    settings = settings_from(config)
    report = asyncio.run(check_credentials(BlueskyCredentials.from_secrets(settings.secrets),
                                           service=settings.bluesky.service, hashtag=hashtag))
    print_check("Bluesky", [
        ("Service", escape(report.service)),
        ("Posting as", escape(f"@{report.handle} ({report.name}, {report.did})")),
        ("Can search", yes_no(report.can_search, report.search_detail)),
        ("Private signposts", yes_no(report.can_dm, report.dm_detail)),
        ("Can moderate", "hide replies in the bot's own threads (threadgate, up to 300), "
         "delete its own posts, report, mute and block from the bot's account"),
    ], ok=report.can_search)


def import_bluesky_command(
    files: Annotated[list[Path], typer.Argument(help="JSON lines of searchPosts, "
                                                "getPostThread or getAuthorFeed responses, or "
                                                "a repo export (.car).")],
    script: Annotated[Path, typer.Option("--script", help="The chat script the posts belong "
                                         "to (chats/<chat>.yaml).")],
    host: Annotated[str, typer.Option("--host", help="The host's handle or DID, when the "
                                      "script does not name it.")] = "",
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Import recorded Bluesky API output: the host's posts become sessions (by handle and
    Q tags) and every reply is attributed as if hosted live; importing twice changes nothing.

    Examples:

      tweetchat import bluesky search.jsonl threads.jsonl --script chats/nhssm.yaml

      tweetchat import bluesky feed.jsonl --script chats/nhssm.yaml --host nhssm.bsky.social

      tweetchat import bluesky repo.car --script chats/nhssm.yaml --host did:plc:abc123
    """
    from bot.platforms.bluesky.importer import import_bluesky
    from bot.platforms.import_command import import_each

    setup_logging(verbose)
    import_each(files, config, script, partial(import_bluesky, host_accounts=[host]),
                "a Bluesky post (app.bsky responses as JSON lines, or a repository .car)",
                "reposts, empty responses",
                "none (no posts by the host found; pass --host HANDLE)")
