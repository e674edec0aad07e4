"""`tweetchat sessions` and `transcript`: what the archive holds, rendered again."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from bot import quick_exit
from bot.cli.text_args import utf8
from bot.terminal import (
    ConfigOpt,
    UserError,
    console,
    require_chat,
    require_session,
    settings_from,
)


def sessions(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    chat: Annotated[str | None, typer.Option(help="Only this chat.")] = None,
    config: ConfigOpt = None,
) -> None:
    """List sessions: chat, start, status, messages, participants.

    Examples:

      tweetchat sessions

      tweetchat sessions --chat nhssm --json
    """
    from zoneinfo import ZoneInfo

    from bot.archive import Archive

    chat = None if chat is None else utf8(chat, "--chat")
    settings = settings_from(config)
    rows: list[dict[str, Any]] = []
    archive = Archive(settings.archive.path)
    if chat is not None:
        require_chat(settings, archive, chat)
    stats = archive.session_stats()
    for s in archive.sessions(chat_id=chat):
        messages, participants = stats.get(s.id, (0, 0))
        rows.append({
            "id": s.id, "chat": s.chat_id, "title": s.title,
            "start": s.scheduled_start.isoformat(),
            "local_start": s.scheduled_start.astimezone(ZoneInfo(s.timezone)).isoformat(),
            "status": s.status, "rehearsal": s.rehearsal, "platforms": list(s.platforms),
            "messages": messages, "participants": participants,
        })
    if as_json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"Sessions ({len(rows)})", title_justify="left")
    for col, just in (("ID", "right"), ("Chat", "left"), ("Start (local)", "left"),
                      ("Status", "left"), ("Messages", "right"), ("People", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        status = r["status"] + (" [magenta](rehearsal)[/magenta]" if r["rehearsal"] else "")
        table.add_row(str(r["id"]), r["chat"], r["local_start"][:16].replace("T", " "),
                      status, str(r["messages"]), str(r["participants"]))
    console.print(table)


def transcript(
    session: Annotated[int, typer.Argument(help="Session id (see `tweetchat sessions`).")],
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", help="html, md, json or csv (repeat for several; default all).")] = None,
    out: Annotated[Path | None, typer.Option(help="Directory to write into.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Render one session's transcript (again), from the archive.

    Examples:

      tweetchat transcript 3

      tweetchat transcript 3 --format md --out /tmp/blog
    """
    from bot.publishing import FORMATS, Publisher

    settings = settings_from(config)
    formats = tuple(fmt or FORMATS)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(f"--format {bad[0]}: use html, md, json or csv")
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: not a folder; give the folder to write the transcript "
                        "into (it is made if missing)")
    try:
        require_session(settings, session)
        # The process ends once the files are listed: a 100k-message model is left to
        # the OS (half a second of freeing objects one by one otherwise; see
        # bot/quick_exit.py).
        quick_exit.end_at_once()
        published = Publisher.from_settings(settings).publish_now(
            session, formats=formats, out_dir=out)
    except OSError as exc:
        if out is None or exc.filename is None:
            raise
        raise UserError(f"--out {out}: cannot write there ({exc.strerror}); give a folder "
                        "you may write to") from None
    for path in published.files:
        console.print(str(path), highlight=False)
