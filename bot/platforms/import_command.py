"""`tweetchat import mastodon|bluesky`: each file into the archive, or one line why not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.importers.common import ImportReport
from bot.terminal import UserError, settings_from


def import_each(files: Sequence[Path], config: Path | None, script: Path,
                importer: Callable[..., ImportReport], what: str, left_out: str,
                no_sessions: str) -> None:
    """Import `files` with `importer` (see terminal_imports.import_files), printing reports.

    A file none of whose records is `what` (the wrong file) is one line (exit status 2),
    not a report of nothing imported; so is an archive found damaged part way (told by
    the CLI's main(), as in every command).
    """
    from bot.importers.common import WrongFile, refuse_wrong_file
    from bot.terminal_imports import import_files

    def checked(archive: Any, file: Path, chat: Any, advance: Any, **options: Any
                ) -> ImportReport:
        return refuse_wrong_file(importer(archive, file, chat, advance, **options), file, what)

    settings = settings_from(config)
    try:
        import_files(files, settings, script, checked, left_out, no_sessions)
    except WrongFile as exc:
        raise UserError(str(exc)) from None
