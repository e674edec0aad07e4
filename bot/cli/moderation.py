"""`tweetchat review`, `forget` and `scan`: moderation from the terminal."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from bot.cli.text_args import utf8
from bot.terminal import ConfigOpt, UserError, console, settings_from, user_markup

if TYPE_CHECKING:
    from bot.moderation import Policy
    from bot.settings import Settings


def policy_for(settings: Settings) -> Policy | None:
    """The configured moderation policy (None: the built-in defaults), or a UserError."""
    from bot.moderation import PolicyError, load_policy

    path = Path(settings.moderation.policy)
    if not path.is_file():
        return None
    try:
        return load_policy(path)
    except PolicyError as exc:
        raise UserError(str(exc).splitlines()[0]) from None


def review(
    decide: Annotated[list[str] | None, typer.Option(
        "--decide", metavar="ID=DECISION",
        help="Decide an item: approve, restore, hide or redact (repeatable).")] = None,
    session: Annotated[int | None, typer.Option(help="Only this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    actor: Annotated[str, typer.Option(help="Who decides (for the audit log).")] = "cli",
    config: ConfigOpt = None,
) -> None:
    """The moderation review queue: flagged messages waiting for a decision.

    approve shows the message (keeping any redaction); restore shows it unredacted;
    hide removes it from every transcript; redact masks what the checks found. Every
    decision is stored with who and when in the audit log; transcripts follow it.
    A running bot applies decisions made in the web console on the platform too.

    Examples:

      tweetchat review

      tweetchat review --decide 12=hide --decide 13=approve --actor sam
    """
    from bot.archive import Archive
    from bot.moderation import ReviewError, decide_sync, review_queue
    from bot.publishing import Publisher

    actor = utf8(actor, "--actor")
    settings = settings_from(config)
    archive = Archive(settings.archive.path)
    policy = policy_for(settings)
    decided: set[int] = set()  # finished sessions whose transcript must follow
    for item in decide or []:
        event, _, decision = item.partition("=")
        if not (event.isascii() and event.isdigit()) or not decision:
            raise UserError(f"--decide {item}: write it as ID=DECISION, e.g. 12=hide")
        try:
            result = decide_sync(archive, int(event), decision, actor,
                                 datetime.now(UTC), policy=policy)
        except ReviewError as exc:
            raise UserError(str(exc)) from None
        console.print(f"item {event}: {decision} -> message now {result.state}",
                      highlight=False)
        stored = archive.message(result.platform, result.message_id)
        if stored is not None and stored.session_id is not None \
                and archive.session(stored.session_id).status == "ended":
            decided.add(stored.session_id)
    if decided:
        # Closed while the transcripts are written: the publisher's own connection is then
        # the only one to the file, so a long transcript may be written in forked lanes.
        archive.close()
        publisher = Publisher.from_settings(settings)
        for session_id in sorted(decided):
            publisher.publish_now(session_id)
            console.print(f"session {session_id}: transcript rendered again",
                          highlight=False)
        archive = Archive(settings.archive.path)
    try:
        items = review_queue(archive, session)
    finally:
        archive.close()
    if as_json:
        sys.stdout.write(orjson.dumps([i.__dict__ for i in items], default=str,
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"Review queue ({len(items)} open)", title_justify="left")
    for col in ("ID", "Session", "Check", "Action", "State", "Author", "Text"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(str(i.event_id), str(i.session_id or ""), i.check, i.action,
                      i.state, user_markup(i.author_name or ""), user_markup(i.text or ""))
    console.print(table)


def forget(
    who: Annotated[str, typer.Argument(
        metavar="PLATFORM:USER",
        help="An id, display name or handle: web:w1a2b3, web:\"Ann Smith\", x:@ann")],
    remove: Annotated[bool, typer.Option(
        "--remove", help="Delete the messages instead of anonymising them.")] = False,
    actor: Annotated[str, typer.Option(help="Who asked (for the audit log).")] = "cli",
    config: ConfigOpt = None,
) -> None:
    """Right to erasure: remove or anonymise one participant's messages everywhere.

    The archive keeps no trace of what they said or who they were (the audit log names
    them only by a one-way hash); every affected transcript is rendered again. Payloads an
    unfinished (killed or running) import read but had not yet written as messages are
    erased too, and no later import writes any erased message back.

    Examples:

      tweetchat forget x:98765

      tweetchat forget web:"Ann Smith"

      tweetchat forget discord:1234 --remove --actor dpo
    """
    from bot.archive import Archive
    from bot.moderation import forget as erase
    from bot.moderation.erasure import ErasureError, find_person
    from bot.platforms import registry
    from bot.publishing import Publisher

    platform, _, user = utf8(who, "forget").partition(":")
    actor = utf8(actor, "--actor")
    if platform not in registry.PLATFORMS or not user:
        people = ", ".join(n for n, row in registry.PLATFORMS.items() if row.for_people)
        raise UserError(f"{who}: write PLATFORM:USER, e.g. x:98765 (platform {people}; "
                        "the user id as `tweetchat search --json` shows it)")
    settings = settings_from(config)
    archive = Archive(settings.archive.path)
    try:
        author_id = find_person(archive, platform, user.strip().strip("\"'"))
        report = erase(archive, platform, author_id, actor, datetime.now(UTC),
                       mode="remove" if remove else "anonymise")
    except ErasureError as exc:
        raise UserError(str(exc)) from None
    finally:
        archive.close()
    publisher = Publisher.from_settings(settings)
    for session_id in report.sessions_affected:
        publisher.publish_now(session_id)
    console.print(f"{report.mode}: {report.messages} messages in "
                  f"{len(report.sessions_affected)} sessions; transcripts rendered again",
                  highlight=False)
    if report.payloads:
        console.print(f"and {report.payloads} of their messages an unfinished import had "
                      "read but not yet written: erased for good (a re-run of the import "
                      "leaves them out)", highlight=False)
    if report.others:
        console.print(f"taken out of {report.others} other people's payloads (replies to "
                      "them, quotes, mentions)", highlight=False)
    if report.unread:
        console.print(f"{report.unread} payloads of an unfinished import name no author "
                      "this bot can read: run that import again to finish it, then forget "
                      "again", highlight=False)
    if not report.scrubbed:
        console.print("the running bot holds the archive open: the old text leaves its "
                      "write-ahead log at the bot's next checkpoint (or stop it and run "
                      "forget again)", highlight=False)

def scan(
    file: Annotated[Path, typer.Argument(help="Text lines, or JSONL with a \"text\" field; "
                                              "- for standard input.")],
    only_matches: Annotated[bool, typer.Option(
        "--only-matches", help="Print only lines that matched a check.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Test the moderation policy: one JSON verdict per line (checks, spans, action).

    The output never repeats what was matched, only where it is, so it is safe to share.

    Examples:

      tweetchat scan messages.txt

      tweetchat scan export.jsonl --only-matches --config config/settings.toml
    """
    from bot.moderation import scan_lines

    settings = settings_from(config)
    policy = policy_for(settings)
    if str(file) == "-":
        lines = sys.stdin
    elif not file.is_file():
        raise UserError(f"{file}: file not found")
    else:
        lines = file.open(encoding="utf-8", errors="replace")
    out = sys.stdout
    for verdict in scan_lines(lines, policy, only_matches=only_matches):
        out.write(orjson.dumps(verdict).decode() + "\n")
