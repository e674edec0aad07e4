"""Recorded Mastodon output -> the archive, attributed as if hosted live.

Two kinds of file:

- JSON lines of API output, each line a Status, a page of statuses (a JSON array, as the
  timelines return), or a Context (`ancestors` + `descendants`). Statuses go through the
  live adapter's converter, so an imported status is stored exactly as a collected one;
  boosts are left out.
- An account archive's `outbox.json` (an ActivityPub OrderedCollection): each `Create`
  of a Note becomes a message (`summary` as the content warning, `inReplyTo` as the
  parent, `updated` as the edit time); `Announce` (boosts) are skipped. Ids are the last
  segment of the status URL, as the API numbers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from bot.archive import Archive
from bot.importers.common import ImportReport, Parsed, host_names_for, import_stream
from bot.importers.jsonl import parse_json_file
from bot.platforms.mastodon.statuses import (
    PLATFORM,
    BadStatus,
    status_message,
    with_warning,
)
from bot.platforms.mastodon.text import html_to_text
from bot.platforms.payload import length, parse_time
from bot.records import Author, Message
from bot.script import ChatScript

if TYPE_CHECKING:
    from bot.moderation.policy import Policy

MAX_OUTBOX = 512 << 20


def records(number: int, value: Any) -> Iterator[Parsed]:
    """The parsed statuses of one JSONL record (a status, a list or a context)."""
    if isinstance(value, list):
        statuses: list[Any] = value
    elif isinstance(value, dict) and ("ancestors" in value or "descendants" in value):
        ancestors, descendants = value.get("ancestors") or [], value.get("descendants") or []
        if not isinstance(ancestors, list) or not isinstance(descendants, list):
            raise ValueError("a context whose ancestors or descendants are not lists")
        statuses = [*ancestors, *descendants]
    elif isinstance(value, dict) and "id" in value and "account" in value:
        statuses = [value]
    else:
        raise ValueError("neither a status, a page of statuses nor a context")
    if not statuses:
        yield Parsed(number, skipped=True)
    for status in statuses:
        try:
            message = status_message(status, {"status": status, "source": "import"})
        except BadStatus as e:
            yield Parsed(number, error=str(e))
            continue
        yield Parsed(number, message) if message else Parsed(number, skipped=True)


def _status_id(url: Any) -> str | None:
    if not isinstance(url, str) or len(url) > 2000:
        return None
    tail = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isdigit() else url


def note_message(activity: dict[str, Any]) -> Message | None:
    """One outbox activity as a Message; None for a boost or anything not a Note."""
    if activity.get("type") != "Create":
        return None
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return None
    sid = _status_id(note.get("id"))
    created = parse_time(note.get("published"))
    actor = str(note.get("attributedTo") or activity.get("actor") or "")
    if not sid or created is None or not actor:
        raise BadStatus(f"note {str(note.get('id'))[:80]} has no id, time or author")
    parts = urlsplit(actor)
    username = parts.path.rstrip("/").rsplit("/", 1)[-1]
    acct = f"{username}@{parts.hostname}" if parts.hostname else username
    text = html_to_text(str(note.get("content") or "")[:200_000])
    return Message(platform=PLATFORM, id=sid, author=Author(PLATFORM, acct, username, acct),
                   text=with_warning(text, str(note.get("summary") or "")[:2000]),
                   created=created, reply_to=_status_id(note.get("inReplyTo")),
                   edited=parse_time(note.get("updated")),
                   url=note.get("url") if isinstance(note.get("url"), str) else None,
                   media=length(note.get("attachment")),  # an archive knows no followers
                   raw=activity)


def outbox(path: Path) -> Iterator[Parsed]:
    """The parsed statuses of an account archive's outbox.json."""
    if path.stat().st_size > MAX_OUTBOX:
        yield Parsed(1, error=f"outbox over {MAX_OUTBOX >> 20} MB")
        return
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        yield Parsed(1, error=f"not JSON ({e})")
        return
    items = data.get("orderedItems") if isinstance(data, dict) else None
    for number, activity in enumerate(items if isinstance(items, list) else [], 1):
        try:
            message = note_message(activity) if isinstance(activity, dict) else None
        except BadStatus as e:
            yield Parsed(number, error=str(e))
            continue
        yield Parsed(number, message) if message else Parsed(number, skipped=True)


def is_outbox(path: Path) -> bool:
    """Whether `path` is an ActivityPub outbox rather than API output."""
    with open(path, "rb") as f:
        head = f.read(4096)
    return b"OrderedCollection" in head or path.name == "outbox.json"


def import_mastodon(archive: Archive, path: str | Path, script: ChatScript,
                    progress: Callable[[int], None] | None = None, *,
                    host_accounts: Iterable[str] = (),
                    policy: Policy | None = None) -> ImportReport:
    """Import API output (JSON lines) or an outbox.json for `script`'s chat.

    Messages and names are screened under `policy` (None: the built-in one).
    """
    path = Path(path)
    names = host_names_for(script, PLATFORM, host_accounts)

    def parse(advance: Callable[[int], None]) -> Iterator[Parsed]:
        return outbox(path) if is_outbox(path) else parse_json_file(path, records, advance)

    return import_stream(archive, script, parse, platform=PLATFORM, host_names=names,
                         progress=progress, input_bytes=path.stat().st_size, policy=policy)
