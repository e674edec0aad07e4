"""`tweetchat compact`: rewrite the archive file compactly, with the bot stopped."""

from __future__ import annotations

from rich.table import Table

from bot.terminal import (
    ConfigOpt,
    UserError,
    console,
    err_console,
    settings_from,
    user_markup,
)


def compact(config: ConfigOpt = None) -> None:
    """Rewrite the archive file: 16 KiB pages, emptied space returned, search index merged.

    An archive made before tweetchat used 16 KiB pages keeps its 4 KiB ones until
    compacted (imports into it are slower); after erasures (`tweetchat forget`) the file
    keeps the emptied space until compacted. Stop the bot first: a running bot (or any
    command using the archive) is detected, and nothing is changed. Needs free disk space
    as large as the archive, beside it and in the temporary folder. Interrupted, the
    archive is left as it was.

    Examples:

      tweetchat compact

      tweetchat compact --config config/settings.toml
    """
    from bot.archive.compact import CompactError
    from bot.archive.compact import compact as compact_file

    path = settings_from(config).archive.path
    with err_console.status("compacting the archive") as status:
        try:
            done = compact_file(path, step=lambda what: status.update(what))
        except CompactError as e:
            raise UserError(str(e)) from None
    table = Table(title=f"Compacted {user_markup(done.path)}", title_justify="left")
    for col, just in (("", "left"), ("Before", "right"), ("After", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    table.add_row("Page size", f"{done.page_size_before:,} B", f"{done.page_size_after:,} B")
    table.add_row("File size", f"{done.bytes_before / 1e6:,.1f} MB",
                  f"{done.bytes_after / 1e6:,.1f} MB")
    console.print(table)
    if done.index_rebuilt:
        console.print("The search index was rebuilt (SQLite moved the messages' rowids).")
