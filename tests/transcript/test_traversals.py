"""The traversals renderers walk (`Transcript.thread`, `in_time_order`, `messages_of` and the
counts), pinned against an oracle worked out from the raw messages, on generated sessions.

The oracle states the threading rules on its own (nest a reply under its public parent in
the same block; beyond MAX_DEPTH show it beside its parent, saying whom it answers; a reply
to a message under another block or to a removed one stays top-level), so whatever
implements the interface (the object graph today, a compact skeleton later) must agree with
it. The renderers are checked to follow the traversals, and to write the same bytes
whatever their chunk sizes.
"""

from __future__ import annotations

import html.parser
import importlib
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive.records import StoredMessage
from bot.transcript import (
    build_transcript,
    render_csv,
    render_html,
    render_json,
    render_markdown,
)
from bot.transcript.model import MAX_DEPTH, Transcript
from tests.transcript import sample as S

AUTHORS = ("Ann", "Ben", "Cat", "Dev")
# Where a generated message is attributed: (section, question); question 9 has no item,
# so its answers are unplaced.
PLACES: tuple[tuple[str, int | None], ...] = (
    ("welcome", None), ("question", 1), ("question", 2), ("question", 3), ("wrapup", None),
    ("unplaced", None), ("question", 9))
BLOCK_OF = {("welcome", None): "Welcome", ("question", 1): "Q1", ("question", 2): "Q2",
            ("question", 3): "Q3", ("wrapup", None): "Wrap-up"}
# The renderer modules (the package's names are their functions), to shrink their chunks.
html_mod, md_mod, json_mod = (importlib.import_module(f"bot.transcript.{name}")
                              for name in ("render_html", "render_md", "render_json"))
BLOCK_ORDER = ("Welcome", "Q1", "Q2", "Q3", "Wrap-up", "Unplaced")
# The stored copies of two scripted posts: headings and CSV rows, never thread messages.
POSTS = (
    S.msg("w-welcome", 0, "Alex Host", "Welcome!", is_host=True, section="welcome"),
    S.msg("w-q1", 0.55, "Alex Host", "Q1 How? #NHSSM", is_host=True, **S.q(1)),
)

# One generated message: how it links (a chain continues the previous message's thread in
# its block, so chains run past MAX_DEPTH), where it is placed, and what happened to it.
spec = st.tuples(
    st.sampled_from(["chain", "chain", "chain", "new", "new", "any", "post", "gone"]),
    st.sampled_from(PLACES),
    st.integers(0, 200),  # the message an "any" reply points at (earlier or later)
    st.sampled_from(["public"] * 6 + ["deleted", "hidden"]),
    st.sampled_from(["web"] * 5 + ["discord"]),
    st.integers(0, 3),  # reactions
    st.sampled_from(AUTHORS),
    st.sampled_from([1, 1, 1, 2, 4, 9]),  # how many public replies follow it, each to the last
)


def generate(specs: list[tuple[Any, ...]]) -> list[StoredMessage]:
    """Messages from specs; every other pair shares a timestamp (ties order by platform, id)."""
    out: list[StoredMessage] = []
    for link, place, target, fate, platform, reactions, author, run in specs:
        for step in range(run):
            i = len(out)
            section, question = place
            reply_to: str | None = None
            if (link == "chain" or step) and out:
                prev = out[-1]
                reply_to, platform = prev.id, prev.platform
                section, question = prev.section, prev.question
            elif link == "any":
                reply_to = f"m{target % (len(specs) * 3):03d}"
            elif link == "post":
                reply_to = "w-q1"
            elif link == "gone":
                reply_to = "never-archived"
            gone = fate if not step else "public"
            out.append(S.msg(
                f"m{i:03d}", 0.1 * (i // 2), AUTHORS[(AUTHORS.index(author) + step) % 4],
                f"message {i}", platform=platform, reply_to=reply_to, section=section,
                question=question, reactions=reactions, deleted=gone == "deleted",
                hidden=gone == "hidden"))
    return out


@dataclass
class Shown:
    """What the oracle says about one public message."""

    m: StoredMessage
    index: int
    block: str
    depth: int = 0
    reply_to_name: str | None = None
    parent_removed: bool = False
    reply_count: int = 0
    children: list[int] = field(default_factory=list)  # shown directly below it


def oracle(messages: list[StoredMessage]) -> list[Shown]:
    """The threading rules, worked out from the messages alone."""
    removed = {m.key for m in messages if m.deleted or m.hidden}
    posts = {p.key for p in POSTS}
    public = sorted((m for m in messages if m.key not in removed and m.key not in posts),
                    key=lambda m: (m.created, m.platform, m.id))
    index = {m.key: i for i, m in enumerate(public)}
    shown = [Shown(m, i, BLOCK_OF.get((m.section, m.question), "Unplaced"))
             for i, m in enumerate(public)]
    holder: dict[int, int] = {}
    real_parent: dict[int, int] = {}
    for s in shown:
        if s.m.reply_to is None:
            continue
        key = (s.m.platform, s.m.reply_to)
        j = index.get(key)
        if j is None or j >= s.index:
            s.parent_removed = key in removed
            continue
        parent = shown[j]
        real_parent[s.index] = j
        if parent.block != s.block:
            s.reply_to_name = parent.m.author_name
        elif parent.depth < MAX_DEPTH:
            s.depth = parent.depth + 1
            parent.children.append(s.index)
            holder[s.index] = j
        else:  # flattened beside its parent, saying whom it answers
            s.depth, s.reply_to_name = parent.depth, parent.m.author_name
            holder[s.index] = holder[j]
            shown[holder[j]].children.append(s.index)
    for s in reversed(shown):
        if s.index in real_parent:
            shown[real_parent[s.index]].reply_count += 1 + s.reply_count
    return shown


def expected_thread(shown: list[Shown], block: str, order: str) -> list[Shown]:
    roots = [s for s in shown if s.block == block and s.depth == 0]
    if order == "engaged" and block.startswith("Q"):
        roots.sort(key=lambda s: (-(s.reply_count + s.m.reactions), s.index))
    out: list[Shown] = []
    stack = list(reversed(roots))
    while stack:
        s = stack.pop()
        out.append(s)
        stack.extend(shown[c] for c in reversed(s.children))
    return out


def blocks_by_label(t: Transcript) -> dict[str, Any]:
    return {b.label: b for b in t.blocks}


@settings(max_examples=80, deadline=None)
@given(st.lists(spec, min_size=1, max_size=30), st.sampled_from(["time", "engaged"]))
def test_traversals_follow_the_threading_rules(specs: list[tuple[Any, ...]], order: str) -> None:
    messages = generate(specs) + list(POSTS)
    t = build_transcript(S.session(), S.items(), messages, order=order)  # type: ignore[arg-type]
    shown = oracle(messages)
    blocks = blocks_by_label(t)
    assert set(blocks) == set(BLOCK_ORDER)
    seen = 0
    for label in BLOCK_ORDER:
        b = blocks[label]
        want = expected_thread(shown, label, order)
        got = list(t.thread(b))
        assert [(e.msg.id, e.index, e.depth, e.shown_replies, e.reply_to_name, e.parent_removed,
                 e.reply_count, e.label) for e in got] == [
            (s.m.id, s.index, s.depth, len(s.children), s.reply_to_name, s.parent_removed,
             s.reply_count, label) for s in want]
        assert b.message_count == len(got) == sum(1 for s in shown if s.block == label)
        assert b.answer_count == sum(1 for e in got if e.depth == 0)
        seen += len(got)
    assert seen == len(shown)  # every public message is in exactly one block's thread

    public = [m for m in messages if not (m.deleted or m.hidden)]
    in_time = sorted(public, key=lambda m: (m.created, m.platform, m.id))
    assert [e.msg.id for e in t.in_time_order()] == [m.id for m in in_time]

    by_author: dict[tuple[str, str], list[Shown]] = {}
    for s in shown:
        by_author.setdefault((s.m.platform, s.m.author_id), []).append(s)
    assert sorted(p.key for p in t.participants) == sorted(by_author)
    for p in t.participants:
        mine = by_author[p.key]
        assert [e.msg.id for e in t.messages_of(p)] == [s.m.id for s in mine]
        assert p.message_count == len(mine)
        assert p.question_labels == sorted({s.block for s in mine if s.block.startswith("Q")})

    check_renderers_follow(t, shown, order)


def check_renderers_follow(t: Transcript, shown: list[Shown], order: str) -> None:
    """Each renderer nests what the traversal nests, and chunking never changes a byte."""
    threads = {label: [(s.m.id, s.index, s.depth) for s in expected_thread(shown, label, order)]
               for label in BLOCK_ORDER}
    page, md, data, csv = render_html(t), render_markdown(t), render_json(t), render_csv(t)
    assert html_nesting(page) == [(i, d) for label in BLOCK_ORDER for _, i, d in threads[label]]
    assert markdown_depths(md) == [d for label in BLOCK_ORDER for _, _, d in threads[label]]
    doc = orjson.loads(data)
    json_blocks = {"Welcome": doc["welcome"]["messages"], "Wrap-up": doc["wrapup"]["messages"],
                   "Unplaced": doc["unplaced"]}
    json_blocks.update({q["label"]: q["answers"] for q in doc["questions"]})
    for label in BLOCK_ORDER:
        assert list(json_walk(json_blocks[label])) == [(i, d) for i, _, d in threads[label]]
    with ExitStack() as tiny:  # chunks of one to three messages or lines: same bytes
        tiny.enter_context(mock.patch.object(html_mod, "CHUNK_MESSAGES", 2))
        tiny.enter_context(mock.patch.object(md_mod, "BATCH_LINES", 3))
        tiny.enter_context(mock.patch.object(json_mod, "BATCH", 1))
        assert (render_html(t), render_markdown(t), render_json(t), render_csv(t)) == (
            page, md, data, csv)


def json_walk(items: list[dict[str, Any]]) -> Iterator[tuple[str, int]]:
    """(id, depth) of every message in nested JSON replies, depth first."""
    stack = [(d, 0) for d in reversed(items)]
    while stack:
        d, depth = stack.pop()
        yield d["id"], depth
        stack.extend((r, depth + 1) for r in reversed(d["replies"]))


class _Nesting(html.parser.HTMLParser):
    """Each thread message's index and how many reply lists it sits in; checks balance."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []  # "thread", "replies" or another tag that must close
        self.found: list[tuple[int, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "ol":
            self.open.append(a.get("class") or "ol")
        elif tag == "li":
            self.open.append("li")
            if (a.get("class") or "").startswith("msg"):
                assert "thread" in self.open, "a message outside a thread list"
                self.found.append((int((a["id"] or "m-1")[1:]), self.open.count("replies")))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ol", "li"):
            last = self.open.pop()
            assert (last == "li") == (tag == "li"), f"</{tag}> closes {last}"


def html_nesting(page: str) -> list[tuple[int, int]]:
    parser = _Nesting()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    return parser.found


def markdown_depths(md: str) -> list[int]:
    """Indentation level of every thread message line (the participants list excluded)."""
    body = md.split("\n## Participants\n", 1)[0]
    return [len(m.group(1)) // 2 for m in re.finditer(r"^( *)- \*\*", body, re.MULTILINE)]
