"""Markdown ready to paste into a blog post.

User text is escaped so it stays text in any CommonMark renderer: markdown punctuation is
backslash-escaped, `<`, `>` and `&` become entities (so `<script>` can never become raw
HTML), and text holding bidirectional controls is wrapped in FSI...PDI isolates so a
right-to-left override cannot spill into the rest of the line. Only http(s) links become
links (as `<https://...>` autolinks).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import timedelta

from bot.gc_pause import gc_paused
from bot.transcript.model import Block, Entry, Transcript
from bot.transcript.render_html import delay, excerpt, length, long_date
from bot.transcript.words import URL_RE, trim_link

# Inline punctuation that means something to CommonMark/GFM anywhere in a line. `#`,
# `+`, `-`, `=`, `>` and "1." only matter at the start of a line (_LINE_START).
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^(\s*)(?:([-+=#])|(\d+)([.)]))", re.MULTILINE)
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Anything that needs work; most chat messages contain none of it and pass untouched.
_NEEDS_WORK = re.compile(r"[\\`*_\[\]|~&<>\n\r\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_STARTS_BLOCK = re.compile(r"\s*(?:[-+=>#]|\d+[.)])")
FSI, PDI = "\u2068", "\u2069"
# Lines gathered before a chunk is yielded: a few hundred KB, never a whole section.
BATCH_LINES = 2000
_BREAKS = re.compile(r"[\r\n]+")


def impressions_line(impressions: int | None, known: int, participants: int) -> str:
    """The impressions sentence: always labelled, "not available" rather than 0."""
    label = "Impressions (theoretical maximum reach, not views): "
    if impressions is None:
        return label + "not available (no platform in this chat reported follower counts)."
    return (label + f"{impressions:,}, the followers of {known} of "
            f"{plural(participants, 'participant')}, each counted once.")


def plural(n: int, word: str) -> str:
    """`n word`, with an s unless n is 1."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def md_text(text: str) -> str:
    """Escape a piece of user text (no links in it) for Markdown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(m: re.Match[str]) -> str:
    # Backslash escapes only work on punctuation: "\#", but "1\." rather than "\1.".
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"


def md_user(text: str) -> str:
    """User text with http(s) links as autolinks, everything else escaped and isolated."""
    if not (_NEEDS_WORK.search(text) or "://" in text or _STARTS_BLOCK.match(text)):
        return text
    if "\r" in text:  # CommonMark line endings are \n, \r and \r\n: make them all \n
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    pos = 0
    if "://" in text:
        for m in URL_RE.finditer(text):
            url = trim_link(m.group(0))
            if not url:
                continue
            out.append(md_text(text[pos : m.start()]))
            out.append(f"<{url}>")
            pos = m.start() + len(url)
    out.append(md_text(text[pos:]))
    s = "".join(out)
    return f"{FSI}{s}{PDI}" if _BIDI.search(s) else s


@functools.lru_cache(maxsize=1 << 16)
def md_name(name: str) -> str:
    """md_user for names and headings, on one line; cached as names repeat on every message.

    A line break in a display name would end the list item, heading or bold run it sits in,
    so breaks become spaces.
    """
    if "\n" in name or "\r" in name:
        name = _BREAKS.sub(" ", name)
    return md_user(name)


def _continue(text: str, indent: str) -> str:
    """Keep a multi-line message inside its list item, with hard line breaks."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    return ("\\\n" + indent).join(line.strip() for line in lines)


@functools.lru_cache(maxsize=1 << 16)
def _who(name: str, handle: str | None) -> str:
    """The bold name and @handle: the same on every message of a person, so built once."""
    return f"**{md_name(name)}** @{md_name(handle)}" if handle else f"**{md_name(name)}**"


def _message(t: Transcript, e: Entry, out: list[str], level: int) -> None:
    indent = "  " * level
    m = e.msg
    loc = e.local
    meta = f"{loc.hour:02d}:{loc.minute:02d}"
    # Most messages carry nothing but the time: skip the list of meta parts for them.
    if (
        m.is_host
        or t.multi_platform
        or e.reply_to_name is not None
        or e.parent_removed
        or m.redacted_text is not None
        or m.edited
    ):
        parts = [meta]
        if m.is_host:
            parts.append("host")
        if t.multi_platform:
            parts.append(md_name(m.platform))
        if e.reply_to_name is not None:
            parts.append(f"replying to {md_name(e.reply_to_name)}")
        elif e.parent_removed:
            parts.append("replying to a removed message")
        if m.redacted_text is not None:
            parts.append("redacted")
        elif m.edited:
            parts.append("edited")
        meta = ", ".join(parts)
    # Made ahead for the layout's messages (bot.transcript.read_ahead), by position; None
    # where it is the text itself.
    made = t.shown.get("md")
    shown = made[e.index] if made is not None and e.index >= 0 else md_user(e.text)
    text = e.text if shown is None else shown
    body = _continue(text, indent + "  ") if "\n" in text else text
    out.append(f"{indent}- {_who(m.author_name, m.author_handle)} ({meta}): {body}")


def _thread(t: Transcript, b: Block, out: list[str]) -> Iterator[str]:
    """The block's messages as nested list items; yields batches of lines as they fill."""
    for e in t.thread(b):
        if len(out) >= BATCH_LINES:  # before adding, so `out` never ends a section empty
            yield _flush(out)
        _message(t, e, out, e.depth)
    out.append("")


def _item(t: Transcript, b: Block, out: list[str]) -> None:
    """The host's welcome or close as it was posted; nothing when it never went out."""
    if b.posted and b.prompt:
        when = f" ({t.shown_at(b.posted_at):%H:%M})" if b.posted_at else ""
        host = md_name(b.poster or t.session.host_name or "Host")
        out += [f"> **{host}**, host{when}: {_continue(md_user(b.prompt), '> ')}", ""]


@gc_paused
def render_markdown(t: Transcript) -> str:
    """The transcript as Markdown text."""
    return "".join(iter_markdown(t))


def _flush(out: list[str]) -> str:
    chunk = "\n".join(out) + "\n"
    out.clear()
    return chunk


def iter_markdown(t: Transcript) -> Iterator[str]:
    """The Markdown in chunks (at most a section, at most BATCH_LINES lines), streamed."""
    s, session = t.summary, t.session
    out: list[str] = []
    title = md_name(session.title)
    if session.hashtag.lower() not in session.title.lower():  # "#NHSSM: ..." says it already
        title += f" {md_user(session.hashtag)}"
    out.append(f"# {title}")
    out.append("")
    if session.rehearsal:
        out += ["**REHEARSAL** (a practice run, not the live chat)", ""]
    facts = f"{long_date(t.local_start)} ({md_text(session.timezone)}), {length(t.length_minutes)}"
    out.append(facts + "  ")
    host = f"Hosted by {md_name(session.host_name)} on " if session.host_name else "On "
    out += [host + ", ".join(md_text(p) for p in t.platforms), ""]

    # One bullet per fact: consecutive plain lines would join into one paragraph.
    out += ["## Summary", ""]
    out.append(
        f"- {s.messages} messages from {s.participants} participants "
        f"({s.new_participants} new, {s.returning_participants} returning), "
        f"{s.messages_per_participant} messages per participant"
        + (f"; {plural(s.reposts, 'repost')} not shown in the thread" if s.reposts else "")
        + "."
    )
    out.append(f"- Media shared (images, videos, files): {s.media}; links shared: "
               f"{sum(n for _, n in s.links)}.")
    out.append("- " + impressions_line(s.impressions, s.impressions_people, s.participants))
    if s.script_time:
        out.append(f"- A rehearsal at {session.pace:g}× speed: times are in script time.")
    busiest = s.activity.busiest()
    if busiest:
        at = t.local(s.activity.origin + timedelta(minutes=busiest[0]))
        out.append(f"- Busiest minute: {at:%H:%M}, {plural(busiest[1], 'message')}.")
    out.append("")
    out += [
        "| Question | Answers | People | Median first answer | Key terms |",
        "|---|--:|--:|--:|---|",
    ]
    for q in s.questions:
        terms = ", ".join(md_text(w) for w in q.key_terms)
        out.append(
            f"| {q.label} | {q.answers} | {q.participants} | {delay(q.median_first_answer)} "
            f"| {terms} |"
        )
    out.append("")
    if s.top_contributors:
        out += [
            "**Top contributors:** "
            + ", ".join(f"{md_name(p.name)} ({n})" for p, n in s.top_contributors),
            "",
        ]
    if s.top_replied:
        out += [
            "**Most replied to:** "
            + ", ".join(f"{md_name(p.name)} ({n})" for p, n in s.top_replied),
            "",
        ]
    if s.links:
        out += ["**Links shared:**", ""]
        out += [f"- <{url}>" + (f" ({n}×)" if n > 1 else "") for url, n in s.links[:50]]
        out.append("")
    if s.moderation:
        out += ["Moderation: " + ", ".join(f"{v} {md_text(k)}" for k, v in s.moderation) + ".", ""]

    if t.welcome.message_count or t.welcome.item:
        out += ["## Welcome", ""]
        _item(t, t.welcome, out)
        yield from _thread(t, t.welcome, out)
    yield _flush(out)
    for b in t.questions:
        q = s.by_number[b.number or 0]
        out += [f"## {b.label}: {md_name(b.heading)}", ""]
        people = "person" if q.participants == 1 else "people"
        line = f"{plural(q.answers, 'answer')} from {q.participants} {people}"
        if q.median_first_answer is not None:
            line += f", median first answer after {delay(q.median_first_answer)}"
        status = "Skipped. " if b.skipped else "" if b.posted else "Not posted. "
        out += [status + line + ".", ""]
        if q.key_terms:
            out += ["Key terms: " + ", ".join(md_text(w) for w in q.key_terms), ""]
        if q.roles:
            out += ["Whose voices: " + ", ".join(f"{n} {md_text(r or 'not stated')}"
                                                 for r, n in q.roles) + ".", ""]
        if q.representative:
            out += ["Representative answers:", ""]
            out += [
                f"- {md_name(e.msg.author_name)}: {md_user(excerpt(e.text))}"
                for e in q.representative
            ]
            out.append("")
        out += ["### Answers" + (", most engaged first" if t.order == "engaged" else ""), ""]
        if b.answer_count:
            yield from _thread(t, b, out)
        else:
            out += ["No answers.", ""]
        yield _flush(out)
    if t.wrapup.message_count or t.wrapup.item:
        out += ["## Wrap-up", ""]
        _item(t, t.wrapup, out)
        yield from _thread(t, t.wrapup, out)
    if t.unplaced.message_count:
        n = t.hint_number
        out += [
            "## Answers we could not place",
            "",
            (
                f"Next time, start your answer with the question's number and the hashtag, for "
                f"example “A{n} … {md_user(session.hashtag)}” to answer Q{n}, and it will "
                "land under its question."
            ),
            "",
        ]
        yield from _thread(t, t.unplaced, out)
    yield _flush(out)
    out += ["## Participants", ""]
    for p in t.participants:
        if len(out) >= BATCH_LINES:  # before adding, so the last flush is never empty
            yield _flush(out)
        labels = p.question_labels
        extra = f", answered {', '.join(labels)}" if labels else ""
        host = ", host" if p.is_host else ""
        out.append(f"- {md_name(p.name)}{host}: {plural(p.message_count, 'message')}{extra}")
    yield _flush(out)
