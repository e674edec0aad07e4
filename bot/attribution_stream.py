"""Attribution of a session read in time order, in constant memory per message.

`bot.attribution.attribute` holds every message and four dicts keyed by message: about a
kilobyte a message, a gigabyte for a session of a million. When every reply comes after
what it replies to (what platforms give: a reply cannot predate its parent), the rules
settle each message from its own text and its parent's placement alone, so a single pass
in session time order gives the same result while remembering one small number per
message (which of the few distinct placements it got).

Anything else (a reply older than its parent, a reply to itself, rows not in time order:
only corrupt or hand-made data) raises `OutOfOrder`, and the caller uses `attribute`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from bot.archive.records import ItemRow
from bot.attribution import (
    Attributable,
    Attribution,
    Key,
    _direct,
    _inherit,
    _Items,
    _order,
    _parent_key,
    _window,
    parse_tags,
)


class OutOfOrder(Exception):
    """The session cannot be attributed in one pass: use `bot.attribution.attribute`."""


def attribute_in_order(
    rows: Iterable[tuple[Attributable, int]], items: Sequence[ItemRow], *, tag_style: str = "Q"
) -> Iterator[tuple[int, Attributable, Attribution]]:
    """(position, message, attribution) for each of `rows`, as `attribute` would place it.

    `rows` are the session's messages in time order (created, platform, id), each with the
    position in that order of the message it replies to (-1 when that is not a message of
    the session). Raises `OutOfOrder` (possibly after yielding some) when a reply is not
    newer than its parent or the rows are not in time order.
    """
    idx = _Items.of(items)
    codes: dict[Attribution, int] = {}
    table: list[Attribution] = []
    placed = array("i")  # code of each message's placement in the chat (-1: an item post)
    previous: tuple[datetime, str, str] | None = None
    for i, (m, parent) in enumerate(rows):
        here = _order(m)
        if previous is not None and here <= previous:
            raise OutOfOrder(f"message {m.key} is not in time order")
        previous = here
        item = idx.posts.get(m.key)
        if item is not None:
            placed.append(-1)
            yield i, m, Attribution(item.number, "host", "host", 1.0)
            continue
        found = parse_tags(m.text, tag_style, idx.max_question)
        tags = tuple(n for n in found if n in idx.numbers) if found else ()
        where = _direct(m, idx, tags)
        if where is None:
            key: Key | None = _parent_key(m)
            if key is None or key in idx.posts or parent < 0:
                where = _window(m, idx)
            elif parent >= i:
                raise OutOfOrder(f"message {m.key} is older than the message it replies to")
            else:
                anchor = table[placed[parent]]
                where = _inherit(anchor) if anchor.section != "unplaced" else _window(m, idx)
        code = codes.get(where)
        if code is None:
            code = codes[where] = len(table)
            table.append(where)
        placed.append(code)
        if m.is_host:
            yield i, m, Attribution(where.question, "host", "host", 1.0, where.extra_questions)
        else:
            yield i, m, where
