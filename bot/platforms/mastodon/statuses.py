"""Mastodon Status JSON -> neutral Messages, shared by the live adapter and the importer.

So an imported status is stored exactly as a collected one.

Ids are big numbers and stay strings. `content` is HTML and becomes plain text; a content
warning (`spoiler_text`) is kept in front of the text as "CW: ..." so transcripts show it
as the author meant it to be read. A boost (`reblog`) repeats someone else's words and is
left out of answers, as X retweets are. A remote author's handle is `user@domain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platforms.mastodon.text import html_to_text
from bot.platforms.payload import bounded as _str
from bot.platforms.payload import count, length, parse_time
from bot.records import Author, Message

PLATFORM = "mastodon"


class BadStatus(ValueError):
    """A payload that claims to be a status but is not a usable one."""


def _id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 30:
        return value
    return None



def with_warning(text: str, spoiler: str) -> str:
    """`text` behind its content warning, the way Mastodon shows it folded."""
    return f"CW: {spoiler}\n\n{text}" if spoiler.strip() else text


def status_message(status: Mapping[str, Any], raw: Mapping[str, Any], *, me: str = "",
                   thread_id: str | None = None) -> Message | None:
    """One status as a Message; None for a boost; BadStatus when it is not a status."""
    if not isinstance(status, Mapping):
        raise BadStatus("not a JSON object")
    if status.get("reblog"):
        return None
    sid = _id(status.get("id"))
    account = status.get("account")
    created = parse_time(status.get("created_at"))
    if sid is None or not isinstance(account, Mapping) or created is None:
        raise BadStatus(f"status {status.get('id', '?')!s:.40} has no id, account or time")
    author_id = _id(account.get("id")) or ""
    acct = _str(account.get("acct"), 300) or _str(account.get("username"), 300) or author_id
    name = _str(account.get("display_name"), 300) or _str(account.get("username"), 300) or acct
    mentioned = status.get("mentions")
    accts = {str(m.get("url")): str(m.get("acct")) for m in
             (mentioned if isinstance(mentioned, list) else [])[:100]
             if isinstance(m, Mapping) and isinstance(m.get("url"), str)
             and isinstance(m.get("acct"), str)}
    text = html_to_text(_str(status.get("content"), 200_000) or "", accts)
    reply_to = _id(status.get("in_reply_to_id"))
    likes = status.get("favourites_count")
    return Message(
        platform=PLATFORM, id=sid,
        author=Author(PLATFORM, author_id, name, acct,
                      is_bot=bool(me) and author_id == me,
                      followers=count(account.get("followers_count"))),
        text=with_warning(text, _str(status.get("spoiler_text"), 2_000) or ""),
        created=created, reply_to=reply_to,
        thread_id=thread_id or (None if reply_to else sid),
        edited=parse_time(status.get("edited_at")),
        reactions=likes if isinstance(likes, int) and likes >= 0 else 0,
        url=_str(status.get("url"), 2_000) or _str(status.get("uri"), 2_000),
        media=length(status.get("media_attachments")),
        raw=raw)
