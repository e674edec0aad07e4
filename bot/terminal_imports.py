"""Shared by the `tweetchat import PLATFORM` commands.

They run an importer with a progress bar sized to the file, and print what it did as one
table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bot.forking import ChildFailed
from bot.importers.common import ImportReport
from bot.importers.parts import FileChanged
from bot.settings import Settings
from bot.terminal import UserError, console, sessions_cell, user_markup

BAD_LINES_SHOWN = 20

if TYPE_CHECKING:
    from bot.moderation.policy import Policy


def import_policy(settings: Settings) -> Policy | None:
    """The moderation policy an import screens under: the bot's own (None: the built-in one).

    With moderation off in the settings, a policy with no checks (names are still
    normalised). A policy file that cannot be used is one line, exit status 2.
    """
    from bot.cli.moderation import policy_for
    from bot.moderation import parse_policy

    if not settings.moderation.enabled:
        return parse_policy("[moderation]\nenabled = false\n", "<moderation off>")
    return policy_for(settings)


def run_import(file: Path, work: Callable[[Callable[[int], None]], ImportReport]
               ) -> ImportReport:
    """`work(advance)` with a progress bar; a missing or unreadable file is one plain line."""
    if not file.is_file():
        raise UserError(f"{file}: no such file; give the path of the exported file")
    columns = (TextColumn("[bold]importing[/bold] {task.fields[name]}"), BarColumn(),
               DownloadColumn(), TimeRemainingColumn())
    try:
        # Redrawn when told, not by Rich's refresh thread: with no second thread the
        # importer may read the file in a forked child (bot.forking.can_fork).
        with Progress(*columns, console=console, transient=True,
                      auto_refresh=False) as progress:
            task = progress.add_task("import", total=file.stat().st_size, name=file.name)
            return work(lambda n: advanced(progress, task, n))
    except OSError as exc:
        if exc.filename is None:
            # Not the file's: a process or pipe the import needed was refused (memory,
            # process limits), or a read failed part way.
            raise _stopped(file, "stopped", exc.strerror or str(exc)) from None
        raise UserError(f"{file}: cannot read it ({exc.strerror or exc}); check the path "
                        "and permissions") from None
    except FileChanged as exc:
        raise UserError(f"{file}: {exc}") from None
    except ChildFailed as exc:
        # Its reading process killed (out of memory, a kill).
        raise _stopped(file, "stopped part way", str(exc), " to finish it") from None


def _stopped(file: Path, how: str, why: str, then: str = "") -> UserError:
    """The one line for an import that could not go on.

    What it stored stays, and an import is keyed on the platform's ids, so running it
    again completes it.
    """
    return UserError(f"{file}: the import {how} ({why}); what it stored is kept: run the "
                     f"same command again{then}")


def advanced(progress: Progress, task: TaskID, n: int) -> None:
    """Move a progress bar that has no refresh thread on by `n`, and redraw it."""
    progress.advance(task, n)
    progress.refresh()


def print_report(file: Path, archive_path: Path, report: ImportReport, left_out: str,
                 no_sessions: str) -> None:
    """Print what an import did as one table (bad lines by number, the first few)."""
    title = f"Imported {user_markup(file.name)} into {user_markup(archive_path)}"
    table = Table(title=title, title_justify="left",
                  show_header=False)
    table.add_row("Lines read", f"{report.read:,}")
    table.add_row("Messages", f"{report.messages:,} ({report.host_posts:,} by the host)")
    table.add_row("New or changed", f"{report.changed:,}")
    table.add_row("Left out", f"{report.skipped:,} ({left_out})")
    bad = report.bad_lines
    shown = ", ".join(str(n) for n in bad[:BAD_LINES_SHOWN])
    more = f" and {len(bad) - BAD_LINES_SHOWN:,} more" if len(bad) > BAD_LINES_SHOWN else ""
    where = f" (line{'s' if len(bad) > 1 else ''} {shown}{more})" if bad else ""
    table.add_row("Bad lines", f"{len(bad):,}{where}")
    table.add_row("Sessions", sessions_cell(report.sessions, no_sessions))
    table.add_row("Flagged by moderation", flagged_line(report.flagged))
    console.print(table)


def flagged_line(flagged: int) -> str:
    """The report's moderation line: how many messages the screening flagged, and where to look."""
    if not flagged:
        return "none"
    return f"{flagged:,} (masked or held as the policy says; see `tweetchat review`)"


def import_files(files: Sequence[Path], settings: Settings, script: Path,
                 importer: Callable[..., ImportReport], left_out: str, no_sessions: str) -> None:
    """Run `importer(archive, file, chat, progress, policy=)` on each file, printing each report.

    The archive is opened once and always closed.
    """
    from bot.archive import Archive
    from bot.script import load_script

    chat = load_script(script)
    policy = import_policy(settings)
    archive = Archive(settings.archive.path)
    try:
        for file in files:
            def work(advance: Callable[[int], None], f: Path = file) -> Any:
                return importer(archive, f, chat, advance, policy=policy)

            report = run_import(file, work)
            print_report(file, settings.archive.path, report, left_out, no_sessions)
    finally:
        archive.close()
