"""What each message of a transcript is, so a reader of the CSV or JSON can filter.

The host's scripted posts are "welcome", "question" and "close"; the host's other posts
(thanks, follow-ups, repeats for latecomers) are "host"; a participant's message placed
under a question is an "answer" (replies to the question post included) or a "reply" to
someone; everything else (hellos before Q1, thanks after the close, unplaced) is "other".
The scripted posts are made into entries here; the other messages are classified with the
rest of the skeleton (`bot.transcript.skeleton.kind_code`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from bot.archive.records import ItemRow, StoredMessage
from bot.transcript.model import Block, Entry, MessageKind


def item_entries(
    items: Sequence[ItemRow],
    posted: Mapping[tuple[str, str], StoredMessage],
    blocks: Sequence[Block],
    to_local: Callable[[datetime], datetime],
) -> list[Entry]:
    """The host's posts of scripted items as entries, each block pointing at its own."""
    by_key = {b.item.key: b for b in blocks if b.item is not None}
    out: list[Entry] = []
    for item in items:
        block = by_key.get(item.key)
        found = [posted[(p, ref)] for p, ref in item.refs.items() if (p, ref) in posted]
        for m in found:
            kind: MessageKind = (
                "question" if item.number is not None
                else "close" if item.key == "close" else "welcome"
            )
            text = m.text if m.redacted_text is None else m.redacted_text
            e = Entry(-1, m, text, to_local(m.created), block, kind=kind)
            out.append(e)
            if block is not None and block.post is None:
                block.post = e
    out.sort(key=lambda e: (e.msg.created, e.msg.platform, e.msg.id))
    return out
