"""`tweetchat mastodon check` and `tweetchat import mastodon`: parse, call, print."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from bot.terminal import (
    ConfigOpt,
    print_check,
    settings_from,
    setup_logging,
    user_markup,
    yes_no,
)

mastodon_app = typer.Typer(help="""Mastodon: check the instance and access token.

Examples:

  tweetchat mastodon check

  tweetchat mastodon check --hashtag "#NHSSM"
""", no_args_is_help=True)


@mastodon_app.command("check")
def mastodon_check(
    hashtag: Annotated[str, typer.Option(help="Read this hashtag's timeline.")] = "",
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Check MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN: which account posts, the
    instance's status limits (max_characters, URL weight), whether the hashtag timeline
    answers and whether the hashtag stream does (else the bot polls; see docs/mastodon.md).

    Exit status 0 when all work, 1 when the timeline does not, 2 when the token fails.

    Examples:

      tweetchat mastodon check

      tweetchat mastodon check --hashtag "#NHSSM"
    """
    import asyncio

    from bot.platforms.mastodon.client import MastodonCredentials, check_credentials

    setup_logging(verbose)
    settings = settings_from(config)
    token = settings.secrets.mastodon_access_token
    credentials = MastodonCredentials(settings.mastodon.api_base_url,
                                      token.get_secret_value() if token else None)
    report = asyncio.run(check_credentials(credentials, hashtag=hashtag))
    print_check("Mastodon", [
        ("Instance", user_markup(f"{report.instance} ({report.limits.version})")),
        ("Posting as", user_markup(f"@{report.acct} ({report.name}, id {report.account_id})")),
        ("Status limit", f"{report.limits.max_characters} characters, URLs count "
         f"{report.limits.characters_reserved_per_url}"),
        ("Reads the tag", yes_no(report.can_read_tag, report.detail)),
        ("Streams the tag", yes_no(report.can_stream, report.stream_detail)),
        ("Can moderate", "delete its own posts, report to the instance, mute (timeouts) and "
         "block from the bot's account; it cannot hide replies"),
    ], ok=report.can_read_tag)


def import_mastodon_command(
    files: Annotated[list[Path], typer.Argument(help="JSON lines of API output (a status, a "
                                                "page or a context a line) or outbox.json.")],
    script: Annotated[Path, typer.Option("--script", help="The chat script the statuses "
                                         "belong to (chats/<chat>.yaml).")],
    host: Annotated[str, typer.Option("--host", help="The host's account (user or "
                                      "user@domain), when the script does not name it.")] = "",
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Import recorded Mastodon statuses or an account archive's outbox.json: the host's
    statuses become sessions and every reply is attributed as if hosted live; boosts are
    left out; importing twice changes nothing.

    Examples:

      tweetchat import mastodon tag-timeline.jsonl contexts.jsonl --script chats/nhssm.yaml

      tweetchat import mastodon archive/outbox.json --script chats/nhssm.yaml --host nhssm
    """
    from bot.platforms.import_command import import_each
    from bot.platforms.mastodon.importer import import_mastodon

    setup_logging(verbose)
    import_each(files, config, script, partial(import_mastodon, host_accounts=[host]),
                "a Mastodon status (API output as JSON lines, or an outbox.json)",
                "boosts, empty pages",
                "none (no statuses by the host found; pass --host ACCOUNT)")
