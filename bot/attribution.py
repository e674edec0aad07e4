"""Which question each message of a session answers, and the reply trees.

A pure function of archive records (`ItemRow`, `StoredMessage`): no I/O, no clock, so the
transcript can be rebuilt from the archive at any time and give the same answer.

Precedence for a participant's message (first rule that places it wins):

1. a direct reply to a question post (its ref on that platform)          reply   1.0
2. an explicit answer tag ("A1", "A1/A2", "T3" in topic chats, ...)      tag     0.95
3. posted inside a question's thread                                     thread  0.9
4. a reply, possibly through a chain, to a message already placed        reply   <= 0.8
   (a direct reply to the welcome/close post lands in welcome/wrapup here too)
5. the question most recently posted before the message                  window  0.4
   (before Q1: "welcome"; after the close: "wrapup"; no item out: "unplaced")

Host posts are section "host", method "host". For the scripted item posts `question` is
the item's number; for the host's other messages (thanks, follow-ups) `question` is found
with the rules above, so the transcript can show them in the right question's tree.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.archive.records import ItemRow, Method, Section, StoredMessage

log = logging.getLogger(__name__)

Key = tuple[str, str]


class Attributable(Protocol):
    """What attribution reads of a message: a `StoredMessage`, or an import's compact row."""

    @property
    def platform(self) -> str: ...  # noqa: D102 - the fields say it
    @property
    def id(self) -> str: ...  # noqa: D102
    @property
    def key(self) -> Key: ...  # noqa: D102
    @property
    def text(self) -> str: ...  # noqa: D102
    @property
    def created(self) -> datetime: ...  # noqa: D102
    @property
    def reply_to(self) -> str | None: ...  # noqa: D102
    @property
    def thread_id(self) -> str | None: ...  # noqa: D102
    @property
    def is_host(self) -> bool: ...  # noqa: D102

CONF_REPLY_TO_QUESTION = 1.0
CONF_TAG = 0.95
CONF_THREAD = 0.9
CONF_INHERITED = 0.8
CONF_WINDOW = 0.4


@dataclass(frozen=True)
class Attribution:
    """Where one message belongs: the question it answers, its section, and how sure."""

    question: int | None  # the question answered (the first one if several)
    section: Section
    method: Method
    confidence: float  # 0..1
    extra_questions: tuple[int, ...] = ()  # "A1/A2": every number beyond the first


UNPLACED = Attribution(None, "unplaced", "none", 0.0)


# --------------------------------------------------------------------------- tags
#
# What people really type: "A1", "A1:", "A1)", "A.1", "a1 -", "A1/A2", "A1 & A2", "A1, A2",
# "@jo @sam A2 yes", "#NHSSM A2 ...", "... totally agree A3", and "A 1" at the very start.
#
# The rules that keep false positives out, pragmatically rather than perfectly:
# - the letter must start a word: no letter, digit, "_" or "@" before it ("Area1", "BA1",
#   "CA1", "@A1fan" don't match); "#A1" is accepted (some people hashtag their answers);
# - the number ends the word: "A1c" (HbA1c), "A1%", "A1.5", "A1:30", "A123" don't match;
# - "Q1" is the host's question label, never an answer; in topic chats (tag_style "T")
#   "T1" answers topic 1 and "A1" is still accepted (so is "T2 diabetes": ambiguity we
#   accept in topic chats, as we accept "A1 size paper");
# - the spaced form "A 1" is only taken at the very start of the message (after @mentions
#   and hashtags) and not when a unit-like word follows, because "a" is also the English
#   article: "a 10 minute break", "it took a 2 hour wait" are not answers;
# - 0 is never a question; with `max_question` numbers above it are dropped.
# URLs and Discord custom emoji are removed first ("https://x.co/a1/", "<:a1:123>").

_NUM_END = r"(?![\w@%]|[.,:]\d)"
# Words after "a <number>" that make it a quantity, not an answer.
_UNITS = frozenset(
    re.findall(
        r"\w+",
        """
        s sec secs second seconds min mins minute minutes h hr hrs hour hours day days
        wk wks week weeks month months yr yrs year years am pm time times x percent pc
        people person patients staff mile miles km metre metres meter meters page pages
        way star stars point points part parts more or of out to and in off
        """,
    )
)
_NOISE = re.compile(r"https?://\S+|www\.\S+|<a?:\w+:\d+>", re.IGNORECASE)
_LEADING = re.compile(r"^[\s.]*(?:(?:@[\w.]+|#\w+|<[@#][!&]?\d+>)[\s,:;]*)*", re.IGNORECASE)


def _letters(tag_style: str) -> str:
    # Both cases spelled out rather than re.IGNORECASE: the compact pattern then starts with
    # a plain character set that `re` scans for quickly (2.5x faster on chatter; every
    # message of an import is scanned once).
    if tag_style == "Q":
        return "[aA]"
    if tag_style == "T":
        return "[aAtT]"
    raise ValueError(f"unknown tag_style {tag_style!r}: use 'Q' (questions) or 'T' (topics)")


_ANY_DIGIT = re.compile(r"\d")
_PATTERNS: dict[str, tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]] = {}


def _patterns(tag_style: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(compact anywhere, spaced at start, continuation "/2" "& A3") for one tag style."""
    cached = _PATTERNS.get(tag_style)
    if cached is None:
        letter = _letters(tag_style)
        more = rf"(?:\s*[/&]\s*(?:{letter})?\.?\d{{1,2}}{_NUM_END})*"
        # The letter first, then "nothing word-like before it" as a look-behind over the
        # letter and the character before it: same matches, and the scan can skip ahead.
        compact = re.compile(
            rf"{letter}(?<![\w@]{letter})\.?(?P<n>\d{{1,2}}){_NUM_END}(?P<more>{more})"
        )
        spaced = re.compile(
            rf"{letter}\s+(?P<n>\d{{1,2}}){_NUM_END}(?P<more>{more})(?P<rest>.*)",
            re.IGNORECASE | re.DOTALL,
        )
        cached = (compact, spaced, re.compile(r"\d{1,2}"))
        _PATTERNS[tag_style] = cached
    return cached


def parse_tags(text: str, tag_style: str = "Q", max_question: int | None = None) -> tuple[int, ...]:
    """Question numbers a message says it answers, in the order written, without repeats."""
    compact, spaced, digits = _patterns(tag_style)
    if _ANY_DIGIT.search(text) is None:
        return ()  # every tag has a number: most chatter is settled without the patterns
    # URLs need ":" or "." and emoji ":": without either there is nothing to remove.
    clean = _NOISE.sub(" ", text) if ":" in text or "." in text else text
    found: list[int] = []

    lead = _LEADING.match(clean)
    start = lead.end() if lead else 0
    m = spaced.match(clean, start)
    if m:
        following = re.match(r"\s*(\w+)", m.group("rest"))
        if following is None or following.group(1).lower() not in _UNITS:
            found.append(int(m.group("n")))
            found.extend(int(d) for d in digits.findall(m.group("more")))

    for m in compact.finditer(clean):
        found.append(int(m.group("n")))
        found.extend(int(d) for d in digits.findall(m.group("more")))

    out: list[int] = []
    for n in found:
        if n < 1 or (max_question is not None and n > max_question) or n in out:
            continue
        out.append(n)
    return tuple(out)


# --------------------------------------------------------------------------- trees


def _utc(dt: datetime) -> datetime:
    # Naive datetimes are taken as UTC so one stray row cannot break the sort.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _order(m: Attributable) -> tuple[datetime, str, str]:
    return (_utc(m.created), m.platform, m.id)


def _parent_key(m: Attributable) -> Key | None:
    if m.reply_to is None or m.reply_to == m.id:
        return None
    return (m.platform, m.reply_to)


def reply_tree(messages: Sequence[StoredMessage]) -> dict[Key | None, list[StoredMessage]]:
    """Children by parent key (parent on the same platform), each list in time order.

    Messages whose parent is not in the set are roots, under None. A reply cycle (only
    possible with corrupt data) would hide its members from every root, so its earliest
    member is made a root.
    """
    ordered = sorted(messages, key=_order)
    by_key = {m.key: m for m in ordered}
    parent: dict[Key, Key | None] = {}
    for m in ordered:
        p = _parent_key(m)
        parent[m.key] = p if p in by_key else None

    reaches_root: dict[Key, bool] = {}
    for m in ordered:
        path: list[Key] = []
        seen: set[Key] = set()
        k: Key | None = m.key
        while k is not None and k not in reaches_root and k not in seen:
            seen.add(k)
            path.append(k)
            k = parent[k]
        ok = k is None or reaches_root.get(k, False)
        if not ok and k in seen:
            # A cycle: cut it at its earliest member (path is in walk order, not time order).
            cycle = path[path.index(k) :]
            first = min(cycle, key=lambda c: _order(by_key[c]))
            parent[first] = None
            log.warning("reply cycle through %s:%s cut", *first)
            # Everything on this path now reaches the new root.
            ok = True
        for p in path:
            reaches_root[p] = ok

    tree: dict[Key | None, list[StoredMessage]] = {}
    for m in ordered:
        tree.setdefault(parent[m.key], []).append(m)
    return tree


# --------------------------------------------------------------------------- attribution


@dataclass(frozen=True)
class _Items:
    """The session's items, indexed the ways attribution asks about them."""

    posts: dict[Key, ItemRow]  # (platform, post id) -> item
    threads: dict[Key, ItemRow]  # (platform, thread id) -> item
    timeline: tuple[tuple[datetime, ItemRow], ...]  # posted items, in the order they went out
    numbers: frozenset[int]  # every question number in the script
    max_question: int | None

    @classmethod
    def of(cls, items: Sequence[ItemRow]) -> _Items:
        posts: dict[Key, ItemRow] = {}
        threads: dict[Key, ItemRow] = {}
        for item in items:
            posts.update({(p, ref): item for p, ref in item.refs.items()})
            threads.update({(p, tid): item for p, tid in item.threads.items()})
        # Script order breaks ties between items stamped with the same instant.
        timeline = sorted(
            ((_utc(it.posted_at), i, it) for i, it in enumerate(items) if it.posted_at),
            key=lambda t: (t[0], t[1]),
        )
        numbers = frozenset(it.number for it in items if it.number is not None)
        return cls(
            posts=posts,
            threads=threads,
            timeline=tuple((t, it) for t, _, it in timeline),
            numbers=numbers,
            max_question=max(numbers) if numbers else None,
        )


def _section_of(item: ItemRow) -> Section:
    if item.number is not None:
        return "question"
    return "wrapup" if item.key == "close" else "welcome"


def _without(tags: tuple[int, ...], question: int | None) -> tuple[int, ...]:
    return tuple(t for t in tags if t != question)


def _direct(m: Attributable, idx: _Items, tags: tuple[int, ...]) -> Attribution | None:
    """Rules 1-3 and the direct welcome/close reply: what the message itself tells us."""
    parent = idx.posts.get((m.platform, m.reply_to)) if m.reply_to else None
    if parent is not None and parent.number is not None:
        return Attribution(
            parent.number,
            "question",
            "reply",
            CONF_REPLY_TO_QUESTION,
            _without(tags, parent.number),
        )
    if tags:
        return Attribution(tags[0], "question", "tag", CONF_TAG, tags[1:])
    thread = idx.threads.get((m.platform, m.thread_id)) if m.thread_id else None
    if thread is not None and thread.number is not None:
        return Attribution(thread.number, "question", "thread", CONF_THREAD)
    # Replies to the welcome or the close sit below tags and question threads: "A2" typed
    # as a reply to the welcome post still answers Q2.
    if parent is not None:
        return Attribution(None, _section_of(parent), "reply", CONF_INHERITED)
    # The welcome's thread settles only messages that reply to nobody: on X a thread is the
    # whole conversation, and a host who threads the questions under the welcome puts every
    # reply of the evening in it; a reply follows its own chain (rule 4) instead.
    if thread is not None and m.reply_to is None:
        return Attribution(None, _section_of(thread), "thread", CONF_THREAD)
    return None


def _window(m: Attributable, idx: _Items) -> Attribution:
    if not idx.timeline:
        return UNPLACED
    created = _utc(m.created)
    latest: ItemRow | None = None
    for posted_at, item in idx.timeline:
        if posted_at > created:
            break
        latest = item
    if latest is None:  # before anything went out: early arrivals saying hello
        return Attribution(None, "welcome", "window", CONF_WINDOW)
    return Attribution(latest.number, _section_of(latest), "window", CONF_WINDOW)


def _inherit(parent: Attribution) -> Attribution:
    return Attribution(
        parent.question,
        parent.section,
        "reply",
        # A reply is never surer than what it replies to: a child of a window guess stays
        # a guess, even though following the conversation beats the clock.
        min(CONF_INHERITED, parent.confidence),
        parent.extra_questions,
    )


@dataclass
class PreTagged:
    """Tags parsed ahead of attribution (an import parses them while it waits for its file).

    `by_id` holds, per message of `platform` found to have tags, the text parsed and
    `parse_tags(text, tag_style)`: all its tags, before any session's highest question
    number is known. Only tagged messages are kept (memory: an import may hold 100,000);
    `attribute` parses the rest itself, which is cheap for the usual text with no digit.
    It uses an entry only for the same text and tag style.
    """

    tag_style: str
    platform: str
    by_id: dict[str, tuple[str, tuple[int, ...]]]

    def tags(self, key: Key, text: str, max_question: int | None) -> tuple[int, ...] | None:
        """`parse_tags(text, tag_style, max_question)` if parsed ahead, else None."""
        if key[0] != self.platform:
            return None
        entry = self.by_id.get(key[1])
        if entry is None or entry[0] != text:
            return None
        found = entry[1]
        # Dropping the numbers above the limit afterwards keeps the rest in the same order,
        # each once: what parse_tags gives when told the limit.
        if max_question is None:
            return found
        return tuple(n for n in found if n <= max_question)


def attribute(
    messages: Sequence[Attributable], items: Sequence[ItemRow], *, tag_style: str = "Q",
    pretagged: PreTagged | None = None,
) -> dict[Key, Attribution]:
    """Attribution of every message, keyed by (platform, id). Input order does not matter.

    `pretagged` saves parsing the tags of messages already parsed (see PreTagged).
    """
    idx = _Items.of(items)
    by_key = {m.key: m for m in messages}
    if pretagged is not None and pretagged.tag_style != tag_style:
        pretagged = None

    direct: dict[Key, Attribution | None] = {}
    for m in messages:
        if m.key in idx.posts:
            continue
        found = None if pretagged is None else pretagged.tags(m.key, m.text, idx.max_question)
        if found is None:
            found = parse_tags(m.text, tag_style, idx.max_question)
        tags = tuple(n for n in found if n in idx.numbers) if found else ()
        direct[m.key] = _direct(m, idx, tags)

    # `placed` is where a message sits in the chat; host messages get their public
    # section ("host") only at the end, so replies to the host still inherit a question.
    placed: dict[Key, Attribution] = {}

    def resolve(key: Key) -> Attribution:
        # Walk up the reply chain to the first message that is settled, then settle the
        # chain top-down. Iterative: a long back-and-forth must not hit the recursion limit.
        chain: list[Key] = []
        on_chain: set[Key] = set()
        k: Key | None = key
        anchor: Attribution | None = None
        while k is not None:
            if k in placed:
                anchor = placed[k]
                break
            if k in on_chain:  # reply cycle (corrupt data): fall back to the window
                break
            found = direct.get(k)
            if found is not None:
                placed[k] = found
                anchor = found
                break
            chain.append(k)
            on_chain.add(k)
            p = _parent_key(by_key[k])
            k = p if p in by_key and p not in idx.posts else None

        for c in reversed(chain):
            if anchor is not None and anchor.section != "unplaced":
                placed[c] = _inherit(anchor)
            else:
                placed[c] = _window(by_key[c], idx)
            anchor = placed[c]
        return placed[key]

    result: dict[Key, Attribution] = {}
    for m in sorted(messages, key=_order):
        item = idx.posts.get(m.key)
        if item is not None:
            result[m.key] = Attribution(item.number, "host", "host", 1.0)
            continue
        where = resolve(m.key)
        if m.is_host:
            result[m.key] = Attribution(where.question, "host", "host", 1.0, where.extra_questions)
        else:
            result[m.key] = where
    return result


def apply(
    messages: Iterable[StoredMessage], attributions: dict[Key, Attribution]
) -> list[StoredMessage]:
    """Copies of the messages with their attribution fields filled in."""
    out: list[StoredMessage] = []
    for m in messages:
        a = attributions.get(m.key, UNPLACED)
        out.append(
            replace(
                m,
                question=a.question,
                section=a.section,
                method=a.method,
                confidence=a.confidence,
                extra_questions=a.extra_questions,
            )
        )
    return out
