"""One self-contained HTML page per transcript (Jinja2, autoescaped, inline CSS, no scripts).

Only http(s) links are ever made clickable; everything else a user typed is text. User
text sits in `dir="auto"` elements isolated with CSS (`unicode-bidi: isolate`) so a right-
to-left override cannot leak into the page around it.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.gc_pause import gc_paused
from bot.transcript.charts import activity_svg
from bot.transcript.model import Block, Entry, Participant, Transcript
from bot.transcript.words import URL_RE, trim_link

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
    """Text on one line, cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def delay(seconds: float | None) -> str:
    """A delay in seconds as people say it: "45 s", "3 min 5 s", "1 h 2 min"."""
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
    """A length in minutes as words: "45 minutes", "1 hour", "1 h 30 min"."""
    h, m = divmod(minutes, 60)
    if not h:
        return f"{m} minutes"
    return f"{h} h {m} min" if m else (f"{h} hour" if h == 1 else f"{h} hours")


def long_date(local: datetime) -> str:
    """A local time written out: "Wednesday 7 January 2026, 20:00 GMT"."""
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"


@functools.cache
def environment() -> Environment:
    """The Jinja environment for transcript pages (autoescaped, strict, with our filters)."""
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


def _esc(text: str) -> str:
    """HTML-escape to a plain str (markupsafe's Markup wrapper costs ~2 µs a call)."""
    return html.escape(text, quote=True)


def html_text(text: str) -> str:
    """A message's text as HTML: escaped, with its http(s) links clickable."""
    return str(linkify(text)) if "://" in text else _esc(text)


_esc_name = functools.lru_cache(maxsize=1 << 16)(_esc)  # names repeat on every message
# "HH:MM" for every minute of the day, by hour * 60 + minute: formatted once, not per message.
_CLOCK = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
# Messages per chunk the template writes: ~100 KB of HTML, never a whole block at once.
CHUNK_MESSAGES = 256


class _Fragments:
    """Messages as HTML, built with explicit escaping (the template autoescapes the rest).

    Jinja macros cost ~50 µs a message; this costs a few, which is what lets a 100k-message
    transcript render in about a second. Every user-supplied value passes through `_esc`
    or `linkify` before it is joined in.
    """

    def __init__(self, t: Transcript) -> None:
        self.t = t
        self.multi_platform = t.multi_platform
        # "<li ...><div class=meta>" tail per (name, handle, host): the same for every
        # message of a person, so escaped and joined once.
        self._who: dict[tuple[str, str | None, bool, str], str] = {}
        self._labels: dict[Block | None, str] = {}  # " Q1" after a participant's message time
        # Declared roles become data-role="r<i>" (an index, never the user's words, so the
        # filter's CSS cannot be injected into) and a badge with the role's name.
        self.role_index = role_index(t)
        self._shown = t.shown.get("html")

    def text(self, e: Entry) -> str:
        """The message's text as HTML: escaped, with its http(s) links clickable."""
        if self._shown is not None and e.index >= 0:  # made ahead (bot.transcript.read_ahead)
            shown = self._shown[e.index]
            return e.text if shown is None else shown
        return html_text(e.text)

    def _author(self, name: str, handle: str | None, host: bool, role: str = "") -> str:
        key = (name, handle, host, role)
        who = self._who.get(key)
        if who is None:
            who = f'<bdi class="author">{_esc_name(name)}</bdi>'
            if handle:
                who += f' <bdi class="handle">@{_esc_name(handle)}</bdi>'
            if host:
                who += ' <span class="badge host">host</span>'
            if role:
                who += f' <span class="badge role">{_esc_name(role)}</span>'
            self._who[key] = who
        return who

    def _open(self, e: Entry, out: list[str]) -> None:
        m = e.msg
        loc = e.local
        i = e.index
        role = e.role
        data_role = f' data-role="r{self.role_index[role]}"' if role else ""
        head = (
            f'<li class="{"msg host" if m.is_host else "msg"}" id="m{i}"{data_role}>\n'
            f'<div class="meta">{self._author(m.author_name, m.author_handle, m.is_host, role)}'
            f'\n · <a href="#m{i}"><time datetime="{m.created.isoformat()}">'
            f"{_CLOCK[loc.hour * 60 + loc.minute]}</time></a>"
        )
        tail = f'</div>\n<p class="text" dir="auto">{self.text(e)}</p>\n'
        # Most messages have none of the optional bits: one append, no list of parts.
        if not (
            self.multi_platform
            or e.reply_to_name is not None
            or e.parent_removed
            or m.redacted_text is not None
            or m.edited
            or m.reactions
            or m.url
        ):
            out.append(head + tail)
            return
        parts = [head]
        if self.multi_platform:
            parts.append(f' · <span class="badge">{_esc_name(m.platform)}</span>')
        if e.reply_to_name is not None:
            parts.append(f" · replying to <bdi>{_esc_name(e.reply_to_name)}</bdi>")
        elif e.parent_removed:
            parts.append(" · replying to a removed message")
        if m.redacted_text is not None:
            parts.append(' · <span class="badge">redacted</span>')
        elif m.edited:
            parts.append(" · <span>edited</span>")
        if m.reactions:
            parts.append(f" · {m.reactions} reaction{'s' if m.reactions != 1 else ''}")
        link = safe_url(m.url)
        if link:
            # A safe_url holds no < > " or ' (URL_RE excludes them): only & needs escaping.
            href = _esc(link) if "&" in link else link
            parts.append(f' · <a href="{href}" rel="nofollow noopener noreferrer">original</a>')
        parts.append(tail)
        out.append("".join(parts))

    def thread(self, block: Block) -> Iterator[Markup]:
        """The block's messages and reply trees as nested lists, in chunks of ~64 KB.

        `Transcript.thread` gives each message with its shown depth; a list of replies
        opens below a message that has some and closes when the depth drops back.
        """
        out = ['<ol class="thread">\n']
        size = 0
        open_depths: list[int] = []  # depths of the messages whose replies list is open
        for e in self.t.thread(block):
            depth = e.depth
            while open_depths and open_depths[-1] >= depth:
                open_depths.pop()
                out.append("</ol>\n</li>\n")
            self._open(e, out)
            if e.shown_replies:
                name = _esc_name(e.msg.author_name)
                out.append(f'<ol class="replies" aria-label="Replies to {name}">\n')
                open_depths.append(depth)
            else:
                out.append("</li>\n")
            size += 1
            if size >= CHUNK_MESSAGES:
                yield Markup("".join(out))
                out.clear()
                size = 0
        out.extend("</ol>\n</li>\n" for _ in open_depths)
        out.append("</ol>\n")
        yield Markup("".join(out))

    def participant(self, p: Participant) -> Iterator[Markup]:
        """One person's messages as a list of links into the thread, in chunks."""
        out = ["<ol>\n"]
        labels = self._labels
        for e in self.t.messages_of(p):
            loc = e.local
            block = e.block
            label = labels.get(block)
            if label is None:
                label = labels[block] = (
                    f" {_esc(block.label)}" if block is not None and block.kind == "question"
                    else "")
            out.append(
                f'<li><a href="#m{e.index}">{_CLOCK[loc.hour * 60 + loc.minute]}{label}</a>: '
                f'<span class="u" dir="auto">{self.text(e)}</span></li>\n'
            )
            if len(out) >= CHUNK_MESSAGES:
                yield Markup("".join(out))
                out.clear()
        out.append("</ol>\n")
        yield Markup("".join(out))


def role_index(t: Transcript) -> dict[str, int]:
    """Each role someone in this session declared -> its number in the filter."""
    present = sorted({p.role for p in t.participants if p.role})
    return {r: i for i, r in enumerate(present)}


@gc_paused
def render_html(t: Transcript) -> str:
    """The transcript as one HTML page."""
    return "".join(generate_html(t))


def generate_html(t: Transcript) -> Iterator[str]:
    """The page in chunks, so write_transcript can stream it to disk."""
    s = t.summary
    busiest = s.activity.busiest()
    chart_title = f"Messages per minute over {len(s.activity.counts)} minutes"
    if busiest:
        at = t.local(s.activity.origin + timedelta(minutes=busiest[0]))
        chart_title += f"; busiest minute {at:%H:%M} with {busiest[1]} message" + (
            "s" if busiest[1] != 1 else ""
        )
    chart = activity_svg(s.activity.counts, s.activity.origin, t.zone, title=chart_title)
    # The chart's words for those who cannot see it (and for copying): busy minutes only.
    origin = s.activity.origin
    activity_rows = [
        (f"{t.local(origin + timedelta(minutes=i)):%H:%M}", n)
        for i, n in enumerate(s.activity.counts) if n
    ]
    fragments = _Fragments(t)
    return (
        environment()
        .get_template("transcript.html.j2")
        .generate(
            t=t,
            s=s,
            session=t.session,
            chart=chart,
            activity_rows=activity_rows,
            role_filter=sorted(fragments.role_index.items(), key=lambda ri: ri[1]),
            thread=fragments.thread,
            participant_messages=fragments.participant,
        )
    )
