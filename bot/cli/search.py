"""`tweetchat search`: full-text search over every session's messages."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from bot.cli.text_args import utf8
from bot.terminal import ConfigOpt, console, printable, require_chat, settings_from

MATCH_STYLE = "bold black on yellow"


def search(
    query: Annotated[str, typer.Argument(help="Words, #hashtags or @names, as typed.")],
    chat: Annotated[str | None, typer.Option(help="Only this chat.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    config: ConfigOpt = None,
) -> None:
    """Search every session's messages in full text.

    Examples:

      tweetchat search canteen

      tweetchat search "#NHSSM policy" --chat nhssm --json
    """
    from bot.archive import Archive
    from bot.archive import search as run_search

    query, chat = utf8(query, "search"), None if chat is None else utf8(chat, "--chat")
    settings = settings_from(config)
    archive = Archive(settings.archive.path)
    if chat is not None:
        require_chat(settings, archive, chat)
    hits = run_search(archive, query, chat_id=chat, limit=limit)
    if as_json:
        sys.stdout.write(orjson.dumps([h.__dict__ for h in hits],
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    # Text objects, never markup strings: what people wrote ("[bold]", "[... removed]") is
    # shown as written, and the matched words are styled by position.
    table = Table(title=Text(f"{len(hits)} matches for {query!r}"), title_justify="left")
    for col in ("Session", "When", "Q", "Who", "Text"):
        table.add_column(col, overflow="fold")
    for h in hits:
        label = f"{h.session_id}" + (" (rehearsal)" if h.rehearsal else "")
        snippet = Text(printable(h.snippet))  # one character for one: matches stay put
        for start, end in h.matches:
            snippet.stylize(MATCH_STYLE, start, end)
        table.add_row(label, f"{h.created:%Y-%m-%d %H:%M}", f"{h.question or ''}",
                      Text(printable(h.author_name)), snippet)
    console.print(table)
