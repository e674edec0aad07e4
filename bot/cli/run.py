"""`tweetchat check`, `run` and `start`: validate scripts, run the bot, host one session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bot.platforms import registry
from bot.terminal import (
    ConfigOpt,
    UserError,
    console,
    err_console,
    printable,
    settings_from,
    setup_logging,
    user_markup,
    user_text,
)


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
                err_console.print(user_text(issue, "red"), highlight=False,
                                  soft_wrap=True)
            failed.append(path)
            continue
        console.print(Text.assemble(
            ("OK", "green"), f" {printable(path)}: ", user_text(script.title, "bold"),
            f" ({printable(script.hashtag)}, {script.model.timezone}, "
            f"on {', '.join(script.platforms)})"), highlight=False)
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
            posts.add_row(*due, item.key, user_markup(item.text))
        console.print(posts)
    if failed:
        raise typer.Exit(2)


# -- run ------------------------------------------------------------------------------------


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
    import asyncio
    import signal

    from bot.app import App

    setup_logging(verbose)
    settings = settings_from(config)
    web = settings.web.model_copy(update={k: v for k, v in
                                          {"host": host, "port": port}.items() if v is not None})
    settings = settings.model_copy(update={"web": web})

    async def main() -> None:
        bot = App(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP,
                                lambda: asyncio.ensure_future(bot.reload_quietly()))
        try:
            await bot.start()
        except BaseException:
            await bot.stop()
            raise
        for issue in bot.script_issues:
            err_console.print(user_text(f"skipped: {issue}", "yellow"), highlight=False)
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
    import asyncio

    directory = Path(bot.settings.chats.dir)

    def snapshot() -> dict[str, float]:
        seen: dict[str, float] = {}
        for p in directory.glob("*.y*ml"):
            try:  # stat never blocks (a FIFO too); a file removed meanwhile is just gone
                seen[str(p)] = p.stat().st_mtime
            except OSError:
                continue
        return seen

    seen = snapshot()
    while True:
        await asyncio.sleep(2)
        now = snapshot()
        if now != seen:
            seen = now
            await bot.reload_quietly()


# -- start ----------------------------------------------------------------------------------


def start(
    script: Annotated[Path, typer.Argument(help="The chat script to host.")],
    now: Annotated[bool, typer.Option("--now", help="Start the session immediately.")] = False,
    pace: Annotated[float, typer.Option(
        help="Run N times faster (a rehearsal), 0.1 to 3600.")] = 1.0,
    platform: Annotated[list[str] | None, typer.Option(
        "--platform", help="Platform(s) for this run, overriding the script "
        f"({', '.join(registry.names())}).")] = None,
    rehearsal: Annotated[bool, typer.Option(help="Mark as a rehearsal even at pace 1.")] = False,
    port: Annotated[int | None, typer.Option(
        help="Port for this session's web room when it is hosted here (0: any free one).",
        min=0, max=65535)] = None,
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Host one session now, in this process, until its close; then publish its transcript.

    --pace 60 runs a 60-minute chat in one minute: the moderators' rehearsal. Rehearsals are
    marked as such in the archive, listings and transcripts. When `tweetchat run` is already
    running with this chat, the session is handed to it (without --platform). Otherwise it
    is hosted here; if a running bot holds the web port, this session's web room takes a
    free port (or --port).

    Examples:

      tweetchat start chats/nhssm.yaml --now --pace 60

      tweetchat start chats/nhssm.yaml --now --platform memory --pace 120

      tweetchat start chats/nhssm.yaml --now --pace 60 --port 9001
    """
    import asyncio
    import signal

    from bot.app import App
    from bot.host import session_pace
    from bot.script import load_script

    if not now:
        raise UserError("start: add --now to host a session immediately "
                        "(scheduled sessions are hosted by `tweetchat run`)")
    setup_logging(verbose)
    settings = settings_from(config)
    chat = load_script(script)
    pace = session_pace(pace)  # nan and inf pass Typer's range check
    from bot.control_client import running_bot_chats, start_remote

    hosted = running_bot_chats(settings) if port is None else None
    if hosted is not None and not platform and chat.id in hosted:
        session = start_remote(settings, chat.id, pace, rehearsal or pace != 1)
        console.print(f"the running bot started session {session['id']} of {chat.id} "
                      f"(pace {pace:g}); follow it at {settings.bot_url}/chats/{chat.id}",
                      highlight=False)
        return
    if hosted is not None:  # the running bot keeps its port: this session's room takes another
        why = "with --platform" if platform else f"it does not host {chat.id}"
        console.print(f"a bot is running at {settings.bot_url} ({why}): hosting the session "
                      "here, its web room on a free port", highlight=False)
        port = 0
    if port is not None:
        settings = settings.model_copy(
            update={"web": settings.web.model_copy(update={"port": port})})

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
            console.print(f"[bold]session {session_id}[/bold]: {user_markup(chat.title)} "
                          f"({kind}) on "
                          f"{', '.join(bot.platform_names(chat))}{url}", highlight=False)
            task = bot.host_tasks[session_id]
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                session = bot.archive.session(session_id)
                from bot.publishing import session_dir

                where = session_dir(bot.transcripts_dir, session)
                console.print(f"session {session_id} {session.status}; transcript in "
                              f"{user_markup(where)}", highlight=False)
        finally:
            await bot.stop()

    asyncio.run(main())
