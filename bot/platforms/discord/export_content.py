"""What a DiscordChatExporter message shows, as text: content, stickers, files, embeds, forwards.

DiscordChatExporter's JSON writer puts beside `content`: `attachments` (`fileName`, `url`),
`stickers` (`name`, `sourceUrl`), `embeds` (`title`, `url`, `description`, ...), and for a
forwarded message `reference.type == "Forward"` with a `forwardedMessage` holding the
original's content, attachments, embeds and stickers. A message can carry nothing but one of
these (a sticker-only "hello", a screenshot), so each becomes a line of text a reader sees:

    [sticker: Wave] https://media.discordapp.net/stickers/1.png
    [file: rota.pdf] https://cdn.discordapp.com/attachments/.../rota.pdf
    [link: NHS guidance on social media] https://www.nhs.uk/...
    [forwarded] the original text

Exported with `--media`, file links are paths relative to the export file
(`chat.json_Files/rota-1A2B.pdf`); they are resolved next to the export, so the transcript
links to the file on this machine rather than to a path that means nothing elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

# Bounds: an export is someone else's file; a message with thousands of files or embeds
# still yields a readable line count.
MAX_PARTS = 20
MAX_FIELD = 300


def _short(value: Any) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1] + "…"


def resolve_link(url: str, base: Path | None) -> str:
    """A web link as it is; a `--media` path (relative to the export) as an absolute path."""
    url = str(url or "").strip()
    if not url or urlparse(url).scheme in ("http", "https") or base is None:
        return url
    local = Path(unquote(url))
    if local.is_absolute():
        return str(local)
    try:
        return str((base / local).resolve())
    except (RuntimeError, OSError, ValueError):  # a symlink loop, a NUL byte: as written
        return os.path.abspath(base / local)


def _files(items: Iterable[Mapping[str, Any]], base: Path | None) -> list[str]:
    out = []
    for a in list(items)[:MAX_PARTS]:
        if not isinstance(a, Mapping):
            continue
        link = resolve_link(str(a.get("url") or ""), base)
        name = _short(a.get("fileName")) or Path(link).name or "file"
        out.append(f"[file: {name}] {link}".rstrip())
    return out


def _stickers(items: Iterable[Mapping[str, Any]], base: Path | None) -> list[str]:
    out = []
    for s in list(items)[:MAX_PARTS]:
        if isinstance(s, Mapping):
            link = resolve_link(str(s.get("sourceUrl") or ""), base)
            out.append(f"[sticker: {_short(s.get('name')) or 'sticker'}] {link}".rstrip())
    return out


def _embeds(items: Iterable[Mapping[str, Any]], text: str) -> list[str]:
    out = []
    for e in list(items)[:MAX_PARTS]:
        if not isinstance(e, Mapping):
            continue
        title, url = _short(e.get("title")), str(e.get("url") or "").strip()
        description = _short(e.get("description"))
        if not (title or url or description):
            continue
        if url and url in text and not description:
            # Discord's own preview of a link the person typed: the link is already there.
            if title:
                out.append(f"[link: {title}]")
            continue
        head = f"[link: {title}] {url}".rstrip() if title or url else ""
        out.extend(part for part in (head, description) if part)
    return out


def _parts(doc: Mapping[str, Any], base: Path | None) -> list[str]:
    text = str(doc.get("content") or "")
    lines = [text] if text.strip() else []
    lines += _stickers(doc.get("stickers") or (), base)
    lines += _files(doc.get("attachments") or (), base)
    lines += _embeds(doc.get("embeds") or (), text)
    return lines


def is_forward(raw: Mapping[str, Any]) -> bool:
    """A forwarded message: shown as a forward, never threaded as a reply."""
    reference = raw.get("reference")
    if reference is None:
        return False  # most messages: no need to ask whether None is a mapping
    return (type(reference) is dict or isinstance(reference, Mapping)) \
        and reference.get("type") == "Forward"


def message_text(raw: Mapping[str, Any], base: Path | None = None) -> str:
    """Everything a reader sees in an exported message, as lines of text."""
    get = raw.get
    if not (get("stickers") or get("attachments") or get("embeds")) \
            and get("forwardedMessage") is None and not is_forward(raw):
        # Most messages are words alone: their one line, as `every_line` gives it, sooner.
        return str(get("content") or "").strip()
    return every_line(raw, base)


def every_line(raw: Mapping[str, Any], base: Path | None = None) -> str:
    """`message_text` the long way, part by part (kept whole to check the short way)."""
    lines = _parts(raw, base)
    forwarded = raw.get("forwardedMessage")
    if is_forward(raw) or isinstance(forwarded, Mapping):
        inner = _parts(forwarded, base) if isinstance(forwarded, Mapping) else []
        lines.append("[forwarded] " + ("\n".join(inner) if inner else "(not in the export)"))
    return "\n".join(lines).strip()
