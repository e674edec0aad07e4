"""Writing rendered transcripts to disk, atomically (a reader never sees half a file)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bot.transcript.charts import bar_chart_png
from bot.transcript.model import Transcript

log = logging.getLogger(__name__)

FORMATS = ("html", "md", "json", "csv")
FILENAMES = {
    "html": "transcript.html",
    "md": "transcript.md",
    "json": "transcript.json",
    "csv": "transcript.csv",
}


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(t: Transcript, fmt: str) -> bytes:
    # Imported here so importing the package stays cheap for callers that need one format.
    from bot.transcript.render_csv import render_csv
    from bot.transcript.render_html import render_html
    from bot.transcript.render_json import render_json
    from bot.transcript.render_md import render_markdown

    if fmt == "html":
        return render_html(t).encode()
    if fmt == "md":
        return render_markdown(t).encode()
    if fmt == "json":
        return render_json(t)
    if fmt == "csv":
        return render_csv(t).encode()
    raise ValueError(f"unknown transcript format {fmt!r}: choose from {', '.join(FORMATS)}")


def write_transcript(
    t: Transcript, out_dir: Path, formats: Iterable[str] = FORMATS
) -> list[Path]:
    """Render `formats` into `out_dir`, plus activity.png; returns the paths written."""
    wanted = list(formats)
    for fmt in wanted:
        if fmt not in FILENAMES:
            raise ValueError(f"unknown transcript format {fmt!r}: choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in wanted:
        path = out_dir / FILENAMES[fmt]
        write_atomic(path, render(t, fmt))
        written.append(path)
    png = out_dir / "activity.png"
    write_atomic(png, bar_chart_png(t.summary.activity.counts))
    written.append(png)
    log.info("wrote transcript of session %s to %s", t.session.id, out_dir)
    return written
