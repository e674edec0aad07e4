"""One self-contained HTML page per transcript (Jinja2, autoescaped, inline CSS, no scripts).

Only http(s) links are ever made clickable; everything else a user typed is text. User
text sits in `dir="auto"` elements isolated with CSS (`unicode-bidi: isolate`) so a right-
to-left override cannot leak into the page around it.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.transcript.charts import activity_svg
from bot.transcript.model import Entry, Transcript
from bot.transcript.summary import URL_RE, trim_link

TEMPLATES = Path(__file__).parent / "templates"


def linkify(text: str) -> Markup:
    """Escape `text`, turning http(s) URLs (and nothing else) into links."""
    if "://" not in text:
        return escape(text)
    out: list[str] = []
    pos = 0
    for m in URL_RE.finditer(text):
        url = trim_link(m.group(0))
        if not url:
            continue
        out.append(escape(text[pos : m.start()]))
        out.append(
            f'<a href="{escape(url)}" rel="nofollow ugc noopener noreferrer">{escape(url)}</a>'
        )
        pos = m.start() + len(url)
    out.append(escape(text[pos:]))
    return Markup("".join(out))


def safe_url(url: str | None) -> str | None:
    """A platform permalink, only if it is plainly http(s)."""
    if not url:
        return None
    m = URL_RE.fullmatch(url.strip())
    return m.group(0) if m else None


def excerpt(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def delay(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def length(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if not h:
        return f"{m} minutes"
    return f"{h} h {m} min" if m else (f"{h} hour" if h == 1 else f"{h} hours")


def long_date(local: datetime) -> str:
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(linkify=linkify, excerpt=excerpt, delay=delay, duration=length)
    env.globals.update(safe_url=safe_url, long_date=long_date)
    return env


def author_line(e: Entry) -> str:
    m = e.msg
    return f"{m.author_name} (@{m.author_handle})" if m.author_handle else m.author_name


def render_html(t: Transcript) -> str:
    s = t.summary
    busiest = s.activity.busiest()
    chart_title = f"Messages per minute over {len(s.activity.counts)} minutes"
    if busiest:
        at = t.local(s.activity.origin + timedelta(minutes=busiest[0]))
        chart_title += f"; busiest minute {at:%H:%M} with {busiest[1]} messages"
    chart = activity_svg(s.activity.counts, s.activity.origin, t.zone, title=chart_title)
    return environment().get_template("transcript.html.j2").render(
        t=t, s=s, session=t.session, chart=chart, author_line=author_line
    )
