"""Lists of entries for tests to inspect, made through the model's traversals.

The model keeps no lists of entries (they are made in batches while walked); a test that
wants to look at "the entries of Q1" or "the replies below this one" asks here.
"""

from __future__ import annotations

from bot.transcript.model import Block, Entry, Participant, Transcript


def entries(t: Transcript) -> list[Entry]:
    """Every public message shown (scripted posts apart), session time order."""
    return list(t.layout.in_time_order())


def messages(t: Transcript, b: Block) -> list[Entry]:
    """Every message shown in block `b`, time order."""
    return [e for e in entries(t) if e.block is b]


def answers(t: Transcript, b: Block) -> list[Entry]:
    """The top-level messages of block `b`, display order."""
    return [e for e in t.thread(b) if e.depth == 0]


def replies(t: Transcript, e: Entry) -> list[Entry]:
    """The replies shown directly below `e`."""
    assert e.block is not None
    walk = iter(t.thread(e.block))
    for x in walk:
        if x.index == e.index:
            break
    out = []
    for x in walk:
        if x.depth <= e.depth:
            break
        if x.depth == e.depth + 1:
            out.append(x)
    return out


def of(t: Transcript, p: Participant) -> list[Entry]:
    """One person's shown messages, time order."""
    return list(t.messages_of(p))
