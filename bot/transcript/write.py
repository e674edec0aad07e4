"""Writing rendered transcripts to disk, atomically (a reader never sees half a file)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from bot.gc_pause import gc_paused
from bot.transcript.charts import bar_chart_png
from bot.transcript.model import Transcript
from bot.transcript.side_by_side import Piece, Reconnects, run_side_by_side

log = logging.getLogger(__name__)

FORMATS = ("html", "md", "json", "csv")
FILENAMES = {
    "html": "transcript.html",
    "md": "transcript.md",
    "json": "transcript.json",
    "csv": "transcript.csv",
}
# CPU seconds of each format at 100k messages, the texts and CSV cells read ahead
# (measured), to balance the forked lanes: the HTML page (and the chart) in one, JSON, CSV
# and Markdown in the other.
COSTS = {"html": 1.25, "json": 0.8, "csv": 0.4, "md": 0.35}
# The same read back from the archive (sessions over publishing.IN_MEMORY_LIMIT; measured
# at 100k, streamed): each walk of the messages reads them again (the HTML page walks them
# twice: threads and participants), and nothing was read ahead. The HTML page and the
# Markdown in one lane, JSON and CSV in the other.
STREAMED_COSTS = {"html": 5.3, "json": 3.6, "csv": 3.0, "md": 2.0}


def write_atomic(path: Path, data: bytes | Iterable[bytes | str]) -> None:
    """Write `data` (bytes, or chunks streamed one by one) to `path` via a temporary file.

    The temporary file's name holds the writing process's id: one that dies mid-write
    (a forked lane killed) leaves a file `remove_leftovers` can find.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=".tmp")
    try:
        # mkstemp makes 0600 files; a transcript is published, so a web server running as
        # another user must be able to read it (as with any file made with umask 022).
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                _write_batched(f, data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_leftovers(out_dir: Path, pid: int) -> None:
    """Remove the temporary files a writer `pid` that died left in `out_dir`.

    Found by the pid `write_atomic` puts in their names (`.NAME.PID.RANDOM.tmp`; the random
    part has no dots), whatever file each was to become.
    """
    for leftover in out_dir.glob(f".*.{pid}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _write_batched(f: Any, data: Iterable[bytes | str], limit: int = 1 << 16) -> None:
    """Join the many small pieces renderers yield into ~64 KB writes.

    One encode and one write call per batch instead of one per piece.
    """
    pending: list[Any] = []
    size = 0

    def flush() -> None:
        if pending:
            first = pending[0]
            f.write(b"".join(pending) if isinstance(first, bytes) else "".join(pending).encode())
            pending.clear()

    for chunk in data:
        if pending and type(chunk) is not type(pending[0]):
            flush()
            size = 0
        pending.append(chunk)
        size += len(chunk)
        if size >= limit:
            flush()
            size = 0
    flush()


def chunks(t: Transcript, fmt: str) -> Iterator[bytes | str]:
    """One format as a stream of pieces.

    A 100k-message transcript never sits in memory as one string.
    """
    # Imported here so importing the package stays cheap for callers that need one format.
    from bot.transcript.render_csv import iter_csv
    from bot.transcript.render_html import generate_html
    from bot.transcript.render_json import iter_json
    from bot.transcript.render_md import iter_markdown

    makers: dict[str, Callable[[Transcript], Iterator[Any]]] = {
        "html": generate_html,
        "md": iter_markdown,
        "json": iter_json,
        "csv": iter_csv,
    }
    if fmt not in makers:
        raise ValueError(f"unknown transcript format {fmt!r}: choose from {', '.join(FORMATS)}")
    return makers[fmt](t)


@gc_paused
def write_format(t: Transcript, fmt: str, out_dir: Path) -> Path:
    """Write one format into `out_dir` (atomically, streamed); returns the path."""
    path = out_dir / FILENAMES[fmt]
    write_atomic(path, chunks(t, fmt))
    return path


def write_transcript(t: Transcript, out_dir: Path, formats: Iterable[str] = FORMATS, *,
                     side_by_side: bool | None = None, own_archive: bool = False
                     ) -> list[Path]:
    """Render `formats` into `out_dir`, plus activity.png; returns the paths written.

    The formats are independent: where the process may fork (see side_by_side), they are
    written side by side; `side_by_side` forces that choice either way. A transcript read
    back from the archive as it is walked reads through that archive's connection, which
    SQLite forbids carrying across fork: its lanes each open their own, the caller's
    included, and only when the caller says the archive is its own (`own_archive`: nobody
    relies on that connection's settings, temporary tables or other transcripts read
    through it). Otherwise its formats are written in turn.
    """
    source = getattr(t.layout, "source", None) if t.reads_archive else None
    reconnects = source if isinstance(source, Reconnects) else None
    if t.reads_archive and (reconnects is None or not own_archive):
        side_by_side, reconnects = False, None
    wanted = list(formats)
    for fmt in wanted:
        if fmt not in FILENAMES:
            raise ValueError(f"unknown transcript format {fmt!r}: choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    # A folder that takes no files (read-only, /proc) fails here, in this process, as one
    # OSError naming it, rather than in each side-by-side lane with a traceback apiece.
    with tempfile.TemporaryFile(dir=out_dir):
        pass
    png = out_dir / "activity.png"
    costs = STREAMED_COSTS if t.reads_archive else COSTS
    pieces = [Piece(fmt, costs[fmt], partial(write_format, t, fmt, out_dir)) for fmt in wanted]
    pieces.append(Piece("activity.png", 0.05, partial(
        write_atomic, png, bar_chart_png(t.summary.activity.counts))))
    run_side_by_side(pieces, fork=side_by_side, reconnects=reconnects,
                     after_failure=partial(remove_leftovers, out_dir))
    log.info("wrote transcript of session %s to %s", t.session.id, out_dir)
    return [out_dir / FILENAMES[fmt] for fmt in wanted] + [png]
