"""The index page of one chat's series: every session, with a trend chart."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.transcript.charts import trend_svg
from bot.transcript.render_html import environment
from bot.transcript.write import write_atomic

# A relative link to a session's page: no scheme, no leading slash or backslash.
_RELATIVE = re.compile(r"^(?![a-zA-Z][a-zA-Z0-9+.-]*:)(?![/\\])[^\s<>\"']+$")


@dataclass(frozen=True)
class SeriesEntry:
    """One session's line on its chat's series index."""

    session_id: int
    date: date
    rehearsal: bool
    messages: int
    participants: int
    returning_participants: int
    link: str  # relative to the index, e.g. "2026-01-07/transcript.html"

    @property
    def safe_link(self) -> str | None:
        """The link when it is relative to the index, else None (never a foreign URL)."""
        return self.link if _RELATIVE.match(self.link) else None


def render_series_html(chat_id: str, title: str, sessions: Sequence[SeriesEntry]) -> str:
    """The series index page of a chat: each session and the trend of who came."""
    ordered = sorted(sessions, key=lambda e: (e.date, e.session_id))
    live = [e for e in ordered if not e.rehearsal]  # rehearsals would distort the trend
    labels = [f"{e.date:%d %b}" for e in live]
    people = trend_svg(
        labels,
        [
            ("Participants", "s1", [e.participants for e in live]),
            ("Returning participants", "s2", [e.returning_participants for e in live]),
        ],
        title="Participants and returning participants per session",
    )
    messages = trend_svg(
        labels, [("Messages", "s3", [e.messages for e in live])], title="Messages per session"
    )
    return (
        environment()
        .get_template("series.html.j2")
        .render(
            chat_id=chat_id,
            title=title,
            sessions=list(reversed(ordered)),
            live=live,
            people_chart=people,
            messages_chart=messages,
        )
    )


def render_series_index(
    chat_id: str, title: str, sessions: Sequence[SeriesEntry], out_dir: Path
) -> Path:
    """Write the series index page into `out_dir`; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    write_atomic(path, render_series_html(chat_id, title, sessions).encode())
    return path
