"""The `tweetchat` command: parses, calls, prints. No business logic lives here.

A user's mistake (bad script, bad flag, missing token) is one red line naming what, where
and how to fix it, with exit status 2 and no traceback. A bug still gets its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from bot.settings import Settings, SettingsError, load_settings

console = Console()
err_console = Console(stderr=True)
app = typer.Typer(
    name="tweetchat",
    help="Host scheduled hashtag chats: post the questions on time, collect every answer, "
    "moderate, and publish a threaded transcript.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default config/settings.toml).")
]


class UserError(Exception):
    """Raised by commands for a mistake the user can fix; printed as one line."""


def _settings(config: Path | None) -> Settings:
    return load_settings(config)


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
        datefmt="[%X]", handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    for noisy in ("apscheduler", "discord", "aiohttp.access", "tzlocal", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# -- check ----------------------------------------------------------------------------------


@app.command()
def check(
    scripts: Annotated[list[Path], typer.Argument(help="Chat script(s) to validate.")],
    count: Annotated[int, typer.Option(help="How many occurrences to list.")] = 5,
) -> None:
    """Validate chat scripts and show when they will run.

    Prints the next occurrences in the chat's time zone and in UTC, and each post's due
    time. Every problem is reported as file:line with how to fix it (exit status 2).

    Examples:

      tweetchat check chats/nhssm.yaml

      tweetchat check chats/*.yaml --count 10
    """
    from bot.durations import format_duration
    from bot.schedule import occurrences
    from bot.script import ScriptError, load_script

    failed = []
    for path in scripts:
        try:
            script = load_script(path)
        except ScriptError as exc:
            for issue in exc.issues:
                err_console.print(f"[red]{escape(str(issue))}[/red]", highlight=False,
                                  soft_wrap=True)
            failed.append(path)
            continue
        console.print(f"[green]OK[/green] {path}: [bold]{script.title}[/bold] "
                      f"({script.hashtag}, {script.model.timezone}, "
                      f"on {', '.join(script.platforms)})", highlight=False)
        table = Table(title="Next occurrences", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column(f"Local ({script.model.timezone})")
        table.add_column("UTC")
        for i, occ in enumerate(occurrences(script, datetime.now(UTC), count), 1):
            table.add_row(str(i), f"{occ.local_start:%a %d %b %Y %H:%M %Z}",
                          f"{occ.start:%a %d %b %Y %H:%M}")
        console.print(table)
        upcoming = occurrences(script, datetime.now(UTC), 1)
        posts = Table(title="Posts", title_justify="left")
        posts.add_column("Due", justify="right")
        if upcoming:
            posts.add_column(f"Next ({upcoming[0].local_start:%d %b})", justify="right")
        posts.add_column("Item")
        posts.add_column("Text", overflow="fold")
        for item in script.timeline():
            due = [f"+{format_duration(item.due_offset)}"]
            if upcoming:
                at = upcoming[0].local_start + timedelta(seconds=item.due_offset)
                due.append(f"{at:%H:%M}")
            posts.add_row(*due, item.key, item.text)
        console.print(posts)
    if failed:
        raise typer.Exit(2)


# -- run ------------------------------------------------------------------------------------


@app.command()
def run(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Interface for the web room.")] = None,
    port: Annotated[int | None, typer.Option(help="Port for the web room.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the bot: schedule every chat in chats/ and host each session when due.

    Serves the web room and publishes transcripts. Ctrl-C or SIGTERM stops it cleanly,
    finishing every write; SIGHUP (or saving a script in chats/) reloads the scripts.

    Examples:

      tweetchat run

      tweetchat run --port 9000

      TWEETCHAT_CHATS_DIR=my-chats tweetchat run
    """
    from bot.app import App

    _setup_logging(verbose)
    settings = _settings(config)
    web = settings.web.model_copy(update={k: v for k, v in
                                          {"host": host, "port": port}.items() if v is not None})
    settings = settings.model_copy(update={"web": web})

    async def main() -> None:
        bot = App(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(bot.reload()))
        try:
            await bot.start()
        except BaseException:
            await bot.stop()
            raise
        for issue in bot.script_issues:
            err_console.print(f"[yellow]skipped: {escape(str(issue))}[/yellow]", highlight=False)
        chats = ", ".join(sorted(bot.chats)) or "none (add a script to chats/)"
        url = bot.web.url if bot.web else "(web room off)"
        console.print(f"[bold green]tweetchat is running[/bold green] - chats: {chats}; "
                      f"web room: {url}; stop with Ctrl-C", highlight=False)
        watcher = asyncio.create_task(_watch_scripts(bot))
        await stop.wait()
        watcher.cancel()
        console.print("stopping: finishing writes...")
        await bot.stop()
        console.print("stopped.")

    asyncio.run(main())


async def _watch_scripts(bot) -> None:  # type: ignore[no-untyped-def]
    """Reload when a script in chats/ is added, changed or removed."""
    directory = Path(bot.settings.chats.dir)

    def snapshot() -> dict[str, float]:
        return {str(p): p.stat().st_mtime for p in directory.glob("*.y*ml")}

    seen = snapshot()
    while True:
        await asyncio.sleep(2)
        now = snapshot()
        if now != seen:
            seen = now
            await bot.reload()


# -- start ----------------------------------------------------------------------------------


@app.command()
def start(
    script: Annotated[Path, typer.Argument(help="The chat script to host.")],
    now: Annotated[bool, typer.Option("--now", help="Start the session immediately.")] = False,
    pace: Annotated[float, typer.Option(help="Run N times faster (a rehearsal).", min=0.1,
                                        max=3600)] = 1.0,
    platform: Annotated[list[str] | None, typer.Option(
        "--platform", help="Platform(s) for this run, overriding the script (memory, web, "
        "discord, x).")] = None,
    rehearsal: Annotated[bool, typer.Option(help="Mark as a rehearsal even at pace 1.")] = False,
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Host one session now, in this process, until its close; then publish its transcript.

    --pace 60 runs a 60-minute chat in one minute: the moderators' rehearsal. Rehearsals are
    marked as such in the archive, listings and transcripts. When `tweetchat run` is already
    running with this chat, the session is handed to it (without --platform).

    Examples:

      tweetchat start chats/nhssm.yaml --now --pace 60

      tweetchat start chats/nhssm.yaml --now --platform memory --pace 120
    """
    from bot.app import App
    from bot.script import load_script

    if not now:
        raise UserError("start: add --now to host a session immediately "
                        "(scheduled sessions are hosted by `tweetchat run`)")
    _setup_logging(verbose)
    settings = _settings(config)
    chat = load_script(script)
    if not platform:
        from bot.control_client import running_bot_chats, start_remote

        hosted = running_bot_chats(settings)
        if hosted is not None and chat.id in hosted:
            session = start_remote(settings, chat.id, pace, rehearsal or pace != 1)
            console.print(f"the running bot started session {session['id']} of {chat.id} "
                          f"(pace {pace:g}); follow it at {settings.bot_url}/chats/{chat.id}",
                          highlight=False)
            return

    async def main() -> None:
        bot = App(settings, scripts=[chat], platform_override=platform or None,
                  with_scheduler=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await bot.start()
            session_id = await bot.start_session(
                chat.id, pace=pace, rehearsal=rehearsal or pace != 1)
            kind = f"rehearsal at pace {pace:g}" if pace != 1 or rehearsal else "live session"
            url = f" - web room {bot.web.url}/chats/{chat.id}" if bot.web else ""
            console.print(f"[bold]session {session_id}[/bold]: {chat.title} ({kind}) on "
                          f"{', '.join(bot.platform_names(chat))}{url}", highlight=False)
            task = bot.host_tasks[session_id]
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                session = bot.archive.session(session_id)
                from bot.publishing import session_dir

                console.print(f"session {session_id} {session.status}; transcript in "
                              f"{session_dir(bot.transcripts_dir, session)}", highlight=False)
        finally:
            await bot.stop()

    asyncio.run(main())


# -- sessions, transcript -------------------------------------------------------------------


@app.command()
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

    archive = Archive(_settings(config).archive.path)
    stats = archive.session_stats()
    rows: list[dict[str, Any]] = []
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


@app.command()
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
    from bot.archive import Archive
    from bot.publishing import publish_session

    settings = _settings(config)
    formats = tuple(fmt or ("html", "md", "json", "csv"))
    bad = [f for f in formats if f not in ("html", "md", "json", "csv")]
    if bad:
        raise UserError(f"--format {bad[0]}: use html, md, json or csv")
    archive = Archive(settings.archive.path)
    try:
        archive.session(session)
    except KeyError:
        raise UserError(f"no session {session}; list them with `tweetchat sessions`") from None
    published = publish_session(archive, session, Path(settings.archive.transcripts_dir),
                                formats=formats, out_dir=out,
                                lead_in_minutes=settings.host.lead_in_minutes,
                                late_window_minutes=settings.host.late_window_minutes)
    for path in published.files:
        console.print(str(path), highlight=False)


# -- control, config ------------------------------------------------------------------------


@app.command()
def control(
    command: Annotated[str, typer.Argument(help="pause, resume, skip, extend or stop.")],
    minutes: Annotated[float | None, typer.Argument(help="For extend: how many minutes.")] = None,
    chat: Annotated[str | None, typer.Option(help="Which chat, when several are live.")] = None,
    url: Annotated[str | None, typer.Option(help="The running bot (default from settings).")
                   ] = None,
    config: ConfigOpt = None,
) -> None:
    """Act on the live session of the running bot (through its control endpoint).

    pause holds every remaining post; resume moves them later by the pause; skip posts the
    next item now; extend N moves the remaining posts N minutes later; stop skips the
    remaining questions and posts the close now. Needs MODERATOR_TOKEN (or the token file
    the bot made on this machine).

    Examples:

      tweetchat control pause

      tweetchat control extend 5

      tweetchat control stop --chat nhssm
    """
    from bot.control_client import send_control

    settings = _settings(config)
    detail = send_control(settings, command, minutes, chat=chat, url=url)
    console.print(detail, highlight=False)


@app.command("config")
def show_config(config: ConfigOpt = None) -> None:
    """Print the effective settings, every secret masked.

    Examples:

      tweetchat config

      TWEETCHAT_PORT=9000 tweetchat config
    """
    settings = _settings(config)
    console.print_json(orjson.dumps(settings.masked()).decode())


# -- search ---------------------------------------------------------------------------------


@app.command()
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

    archive = Archive(_settings(config).archive.path)
    hits = run_search(archive, query, chat_id=chat, limit=limit)
    if as_json:
        sys.stdout.write(orjson.dumps([h.__dict__ for h in hits],
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"{len(hits)} matches for {query!r}", title_justify="left")
    for col in ("Session", "When", "Q", "Who", "Text"):
        table.add_column(col, overflow="fold")
    for h in hits:
        label = f"{h.session_id}" + (" (rehearsal)" if h.rehearsal else "")
        table.add_row(label, f"{h.created:%Y-%m-%d %H:%M}", f"{h.question or ''}",
                      h.author_name, h.snippet)
    console.print(table)


# -- entry point ----------------------------------------------------------------------------


def _register_extensions() -> None:
    """Command groups that live beside their features (import, x, review, ...)."""
    import importlib

    for module in ("bot.cli_more",):
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(module).register(app)


def main() -> None:
    from bot.app import BotError
    from bot.control_client import ControlClientError
    from bot.host import ControlError
    from bot.platforms.base import PlatformSetupError
    from bot.script import ScriptError

    _register_extensions()
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
