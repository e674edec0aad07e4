"""Attribution in one pass in time order places every message as `attribute` does.

Hypothesis builds sessions with reply chains in every shape: replies to earlier and later
messages, to the question posts, to themselves, to messages of another session, tags,
question threads and host follow-ups; the one-pass version must agree with `attribute`
on every message, or refuse with OutOfOrder only when a reply is older than its parent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive.records import StoredMessage
from bot.attribution import (
    PreTagged,
    _direct,
    _Items,
    _order,
    _parent_key,
    attribute,
    parse_tags,
)
from bot.attribution_stream import OutOfOrder, attribute_in_order
from tests.transcript import sample as S

POSTS = ["w-welcome", "w-q1", "w-q2", "w-q3", "w-close"]
TEXTS = ["hello all", "A1 yes", "A2/A3 both", "a 2 hour wait", "T3 maybe", "agree", "A9 no"]


@st.composite
def sessions(draw: st.DrawFn, forward: bool) -> list[StoredMessage]:
    """Messages m0..mn; with `forward` False every reply comes after what it replies to."""
    n = draw(st.integers(0, 40))
    minutes = draw(st.lists(st.integers(-5, 70), min_size=n, max_size=n))
    targets = ["none", "earlier", "post", "self", "gone"] + (["later"] if forward else [])
    if not forward:
        minutes.sort()
    out = []
    for k in range(n):
        target = draw(st.sampled_from(targets))
        reply_to = {
            "none": None, "post": draw(st.sampled_from(POSTS)), "self": f"m{k}",
            "gone": "elsewhere",
            "earlier": f"m{draw(st.integers(0, k - 1))}" if k else None,
            "later": f"m{draw(st.integers(k, n - 1))}",
        }[target]
        out.append(S.msg(
            f"m{k}", minutes[k] + k / 1000, f"p{k % 5}", draw(st.sampled_from(TEXTS)),
            reply_to=reply_to, is_host=draw(st.booleans()) and k % 5 == 0,
            thread_id=draw(st.sampled_from([None, "w-q2", "w-welcome"]))))
    return out + [S.msg(p, 5 * i, "host", f"post {p}", is_host=True)
                  for i, p in enumerate(POSTS)]


def in_order(messages: list[StoredMessage]) -> list[tuple[StoredMessage, int]]:
    ordered = sorted(messages, key=_order)
    position = {m.key: i for i, m in enumerate(ordered)}
    return [(m, position.get((m.platform, m.reply_to), -1) if m.reply_to else -1)
            for m in ordered]


@settings(max_examples=300, deadline=None)
@given(messages=sessions(forward=False), style=st.sampled_from(["Q", "T"]))
def test_one_pass_agrees_with_attribute(messages: list[StoredMessage], style: str) -> None:
    items = S.items()
    got = {m.key: a for _, m, a in attribute_in_order(in_order(messages), items,
                                                      tag_style=style)}
    assert got == attribute(messages, items, tag_style=style)


@settings(max_examples=200, deadline=None)
@given(messages=sessions(forward=True), style=st.sampled_from(["Q", "T"]))
def test_one_pass_agrees_or_refuses(messages: list[StoredMessage], style: str) -> None:
    items = S.items()
    expected = attribute(messages, items, tag_style=style)
    rows = in_order(messages)
    try:
        got = {m.key: a for _, m, a in attribute_in_order(rows, items, tag_style=style)}
    except OutOfOrder:
        idx = _Items.of(items)
        # Only a message settled by its parent, whose parent is not older, may refuse.
        assert any(
            _parent_key(m) is not None and _parent_key(m) not in idx.posts and p >= i
            and _direct(m, idx, tuple(n for n in parse_tags(m.text, style)
                                      if n in idx.numbers)) is None
            for i, (m, p) in enumerate(rows))
        return
    assert got == expected


def test_a_reply_older_than_its_parent_is_refused() -> None:
    parent = S.msg("p", 30, "a", "hello")
    reply = S.msg("r", 10, "b", "me too", reply_to="p")
    with pytest.raises(OutOfOrder):
        list(attribute_in_order(in_order([parent, reply]), S.items()))


def test_rows_out_of_time_order_are_refused() -> None:
    first, second = S.msg("a", 10, "a", "hi"), S.msg("b", 20, "b", "hi")
    with pytest.raises(OutOfOrder):
        list(attribute_in_order([(second, -1), (first, -1)], S.items()))


def test_a_long_chain_inherits_from_its_first_answer() -> None:
    chain = [S.msg("c0", 6, "a", "A2 first")]
    chain += [replace(S.msg(f"c{k}", 6, "a", "and so on", reply_to=f"c{k - 1}"),
                      created=S.at(6) + timedelta(seconds=k)) for k in range(1, 2000)]
    got = list(attribute_in_order(in_order(chain), S.items()))
    assert {(a.question, a.method) for _, _, a in got[1:]} == {(2, "reply")}
    assert got[-1][2] == attribute(chain, S.items())[("web", "c1999")]


@settings(max_examples=200, deadline=None)
@given(messages=sessions(forward=True), style=st.sampled_from(["Q", "T"]),
       parsed_as=st.sampled_from(["Q", "T"]), stale=st.sets(st.integers(0, 45)))
def test_tags_parsed_ahead_place_as_parsing_them_here(
        messages: list[StoredMessage], style: str, parsed_as: str, stale: set[int]) -> None:
    """An import's tags parsed while reading: used only for the same text and tag style."""
    by_id = {}
    for k, m in enumerate(messages):
        # Some entries were parsed from another text (a repeat edited since): never used.
        text = f"{m.text} A3 T1" if k in stale else m.text
        if found := parse_tags(text, parsed_as):  # only tagged messages are kept
            by_id[m.id] = (text, found)
    items = S.items()
    for platform in (messages[0].platform if messages else "web", "elsewhere"):
        pretagged = PreTagged(parsed_as, platform, by_id)
        assert attribute(messages, items, tag_style=style, pretagged=pretagged) \
            == attribute(messages, items, tag_style=style)
