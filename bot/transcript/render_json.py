"""The transcript as JSON, schema "tweetchat.transcript/1" (see docs/transcript-schema.md).

Adding a field keeps version 1; renaming, removing or changing the meaning of one means
"tweetchat.transcript/2". Times are ISO 8601 in UTC; `local_time` adds the chat's zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from bot.gc_pause import gc_paused
from bot.transcript.model import Block, Entry, QuestionStats, Transcript

SCHEMA = "tweetchat.transcript/1"

IMPRESSIONS_NOTE = "theoretical maximum reach, not views"


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None


def _message(e: Entry) -> dict[str, Any]:
    m = e.msg
    d: dict[str, Any] = {
        "platform": m.platform,
        "id": m.id,
        "author": {
            "id": m.author_id,
            "name": m.author_name,
            "handle": m.author_handle,
            "host": m.is_host,
            "role": e.role or None,
        },
        "time": m.created,  # orjson writes datetimes as RFC 3339, faster than isoformat()
        "local_time": e.local,
        "text": e.text,
        "kind": e.kind,
        "edited": m.edited,
        "redacted": e.redacted,
        "url": m.url,
        "reply_to": m.reply_to,
        "reply_to_removed": e.parent_removed,
        "reactions": m.reactions,
        "reply_count": e.reply_count,
        "attribution": {
            "section": m.section,
            "question": m.question,
            "extra_questions": list(m.extra_questions),
            "method": m.method,
            "confidence": m.confidence,
        },
    }
    return d


def _subtrees(t: Transcript, b: Block) -> Iterator[dict[str, Any]]:
    """The block's top-level messages, each with its replies nested, one subtree at a time.

    `Transcript.thread` gives the messages depth first with their shown depth, so the
    reply lists open along one path: `path[d]` holds the replies of the latest message at
    depth d. Built without recursion; the model caps the shown depth, so orjson never meets
    deep nesting either.
    """
    root: dict[str, Any] | None = None
    path: list[list[dict[str, Any]]] = []
    for e in t.thread(b):
        d = _message(e)
        kids: list[dict[str, Any]] = []
        d["replies"] = kids
        depth = e.depth
        if depth == 0:
            if root is not None:
                yield root
            root = d
            path.clear()
        else:
            del path[depth:]
            path[depth - 1].append(d)
        path.append(kids)
    if root is not None:
        yield root


def _ref(e: Entry) -> dict[str, str]:
    return {"platform": e.msg.platform, "id": e.msg.id}


def _block_messages(t: Transcript, b: Block) -> Stream:
    return Stream(_subtrees(t, b))


def _posts(t: Transcript, b: Block) -> list[dict[str, Any]]:
    """The host's posts of the block's item (one per platform it went out on)."""
    return [_message(e) for e in t.posts if e.block is b]


def _question(t: Transcript, b: Block, q: QuestionStats) -> dict[str, Any]:
    item = b.item
    return {
        "number": b.number,
        "label": b.label,
        "text": b.prompt,
        "posted": b.posted,
        "posts": _posts(t, b),
        "posted_at": _iso(b.posted_at),
        "status": item.status if item is not None else None,
        "stats": {
            "answers": q.answers,
            "participants": q.participants,
            "median_first_answer_seconds": q.median_first_answer,
            "key_terms": q.key_terms,
            "representative": [_ref(e) for e in q.representative],
            "most_engaged": [_ref(e) | {"engagement": e.engagement} for e in q.most_engaged],
            "roles": [list(rn) for rn in q.roles],
        },
        "also_answered_by": [_ref(e) for e in b.also],
        "answers": _block_messages(t, b),
    }


def transcript_dict(t: Transcript) -> dict[str, Any]:
    """The transcript as plain data in the published JSON schema."""
    s, session = t.summary, t.session
    return {
        "schema": SCHEMA,
        "session": {
            "id": session.id,
            "chat_id": session.chat_id,
            "title": session.title,
            "hashtag": session.hashtag,
            "timezone": session.timezone,
            "scheduled_start": _iso(session.scheduled_start),
            "local_start": _iso(t.local_start),
            "started_at": _iso(session.started_at),
            "ended_at": _iso(session.ended_at),
            "length_minutes": t.length_minutes,
            "status": session.status,
            "rehearsal": session.rehearsal,
            "host": session.host_name,
            "platforms": list(t.platforms),
            "tag_style": session.tag_style,
            "order": t.order,
        },
        "summary": {
            "messages": s.messages,
            "participants": s.participants,
            "new_participants": s.new_participants,
            "returning_participants": s.returning_participants,
            "host_messages": s.host_messages,
            "messages_per_participant": s.messages_per_participant,
            "reposts": s.reposts,
            "media": s.media,
            "impressions": s.impressions,
            "impressions_people": s.impressions_people,
            "impressions_note": IMPRESSIONS_NOTE,
            "script_time": s.script_time,
            "links": [{"url": u, "count": n} for u, n in s.links],
            "top_contributors": [
                {"platform": p.platform, "author_id": p.author_id, "name": p.name, "messages": n}
                for p, n in s.top_contributors
            ],
            "top_replied": [
                {"platform": p.platform, "author_id": p.author_id, "name": p.name, "replies": n}
                for p, n in s.top_replied
            ],
            "activity": {"origin": _iso(s.activity.origin), "per_minute": s.activity.counts},
            "moderation": dict(s.moderation),
        },
        "welcome": {"text": t.welcome.prompt if t.welcome.posted else "",
                    "posts": _posts(t, t.welcome), "messages": _block_messages(t, t.welcome)},
        "questions": Stream(
            (_question(t, b, s.by_number[b.number or 0]) for b in t.questions), flat=False
        ),
        "wrapup": {"text": t.wrapup.prompt if t.wrapup.posted else "",
                   "posts": _posts(t, t.wrapup), "messages": _block_messages(t, t.wrapup)},
        "unplaced": _block_messages(t, t.unplaced),
        "participants": Stream(
            {
                "platform": p.platform,
                "author_id": p.author_id,
                "name": p.name,
                "handle": p.handle,
                "host": p.is_host,
                "returning": p.returning,
                "followers": p.followers,
                "messages": list(t.message_ids_of(p)),
            }
            for p in t.participants
        ),
    }


class Stream:
    """A JSON array whose items are made and serialised one at a time.

    A 100k-message transcript as one dict tree costs hundreds of MB; streamed, only one
    answer (with its replies) exists as Python objects at a time.
    """

    def __init__(self, items: Iterable[Any], *, flat: bool = True) -> None:
        self.items = items
        self.flat = flat  # items hold no Stream themselves: dump each one whole


def _dumps(value: Any, level: int) -> bytes:
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    return data.replace(b"\n", b"\n" + b"  " * level) if level else data


BATCH = 256  # a flat Stream's items serialised per orjson call


def _items(batch: list[Any], pad: bytes, first: bool) -> bytes:
    """Items of a flat Stream, opening it or continuing it, as one piece.

    orjson's own indented list of the batch, without its opening "[" and closing "]" lines,
    is exactly the items as `_dumps` writes them one by one, at one call (and one re-indent)
    per batch instead of one per item.
    """
    body = orjson.dumps(batch, option=orjson.OPT_INDENT_2)[2:-2]
    if pad:
        body = body.replace(b"\n", b"\n" + pad)
    return (b"[\n" if first else b",\n") + pad + body


def _contains_stream(value: Any) -> bool:
    if isinstance(value, Stream):
        return True
    if isinstance(value, dict):
        return any(_contains_stream(v) for v in value.values())
    return False


def _emit(value: Any, level: int) -> Iterator[bytes]:
    """Serialise like orjson's OPT_INDENT_2, streaming through `Stream` values."""
    pad = b"  " * level
    if isinstance(value, Stream) and value.flat:
        empty = True
        batch: list[Any] = []
        for item in value.items:
            batch.append(item)
            if len(batch) == BATCH:
                yield _items(batch, pad, empty)
                empty = False
                batch.clear()
        if batch:
            yield _items(batch, pad, empty)
            empty = False
        yield b"[]" if empty else b"\n" + pad + b"]"
    elif isinstance(value, Stream):
        empty = True
        for item in value.items:
            yield (b"[\n" if empty else b",\n") + pad + b"  "
            yield from _emit(item, level + 1)
            empty = False
        yield b"[]" if empty else b"\n" + pad + b"]"
    elif isinstance(value, dict) and _contains_stream(value):
        if not value:
            yield b"{}"
            return
        first = True
        for k, v in value.items():
            yield (b"{\n" if first else b",\n") + pad + b"  " + orjson.dumps(k) + b": "
            yield from _emit(v, level + 1)
            first = False
        yield b"\n" + pad + b"}"
    else:
        yield _dumps(value, level)


def iter_json(t: Transcript) -> Iterator[bytes]:
    """The transcript as JSON, in pieces (write_transcript streams them to disk)."""
    yield from _emit(transcript_dict(t), 0)


@gc_paused
def render_json(t: Transcript) -> bytes:
    """The transcript as JSON bytes."""
    return b"".join(iter_json(t))
