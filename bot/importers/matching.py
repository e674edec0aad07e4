"""Which of the host's posts is which scripted item, as real hosts write them.

Hosts do not type the script verbatim. Seen in real chats: `**Q1** How ...` (a bot posting
Markdown), `__Q1__`, `*Q1*`, `Q1:`, `Q1.`, `Q 1`, `Question 1`, `Q1/7`, `#NHSSM Q1 ...`,
topic chats with `T1`/`Topic 1`, the question posted as a reply in the host's own thread,
and now and then no tag at all. So a post is matched:

1. by a question label at the start of the post (after @mentions, hashtags, Markdown
   emphasis and quote marks); a label later in the text ("answers to Q1 so far!") is a
   follow-up, not the question;
2. failing that, by how much of a scripted question's wording it shares (word overlap),
   so an untagged "How do you keep patient data safe on social media?" still finds Q2.

Posts are taken in time order and the first post to claim a question carries it; later
ones ("Q1 again for latecomers", even when the first Q1 had no label) stay the host's
other posts. Welcome and close go the same way: the post most like the
scripted text, else the first post before the questions and the last one after them.
Pure functions: no archive, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.archive.records import ItemRow

# A post shares at least this share of the scripted text's words to count as that item.
SIMILAR = 0.6
_LEAD = re.compile(r"^(?:[\s>*_~`|\"'“‘(\[]|@[\w.]+|#\w+|<[@#][!&]?\d+>|[:,;\-–—])*")
_WORD = re.compile(r"[^\W_]+")


class Post(Protocol):
    """What matching needs of a host post (a `Message` or a stored row)."""

    @property
    def id(self) -> str:
        """The post's id on its platform."""

    @property
    def text(self) -> str:
        """What the host wrote."""

    @property
    def created(self) -> datetime:
        """When it was posted."""


def _label(tag_style: str) -> re.Pattern[str]:
    words = "topic|t" if tag_style == "T" else "question|q"
    # "Q1", "Q 1", "Q.1", "Question 1", "Q1/7", "Q1:", "Q1." and "**Q1**"; not "Q10x".
    return re.compile(rf"(?:{words})\s*\.?\s*(?P<n>\d{{1,2}})(?:\s*/\s*\d{{1,2}})?(?![^\W_]|%)",
                      re.IGNORECASE)


_LABELS = {style: _label(style) for style in ("Q", "T")}


def question_label(text: str, tag_style: str = "Q") -> int | None:
    """The question number a post opens with (`**Q1**`, `Question 1:` ...), else None."""
    start = _LEAD.match(text)
    m = _LABELS["T" if tag_style == "T" else "Q"].match(text, start.end() if start else 0)
    return int(m.group("n")) if m else None


def words(text: str) -> frozenset[str]:
    """Lower-case words of a text, without its question label, for comparing wordings."""
    found = frozenset(w.lower() for w in _WORD.findall(text))
    return frozenset(w for w in found if not re.fullmatch(r"(?:q|t|a)?\d{1,2}", w))


def similarity(post: str, scripted: str) -> float:
    """Share of the scripted text's words that the post also uses (0..1)."""
    want = words(scripted)
    if not want:
        return 0.0
    return len(want & words(post)) / len(want)


def match_items(items: Sequence[ItemRow], posts: Sequence[Post], tag_style: str = "Q"
                ) -> dict[str, Post]:
    """Item key ("welcome", "q1", ..., "close") -> the host post that carried it."""
    questions = {it.number: it for it in items if it.number is not None}
    ordered = sorted(posts, key=lambda p: p.created)
    matched: dict[str, Post] = {}
    used: set[str] = set()
    for post in ordered:  # in time order: the first post to claim a question carries it
        n = question_label(post.text, tag_style)
        if n not in questions or f"q{n}" in matched:
            open_items = [it for it in questions.values() if f"q{it.number}" not in matched]
            n = _most_like_item(post.text, open_items)
        if n is not None:
            matched[f"q{n}"] = post
            used.add(post.id)
    asked = [p for k, p in matched.items() if k.startswith("q")]
    first_q = min((p.created for p in asked), default=None)
    last_q = max((p.created for p in asked), default=None)
    scripted = {it.key: it.text for it in items}
    for key in ("welcome", "close"):
        rest = [p for p in ordered if p.id not in used]
        if key == "welcome":
            window = [p for p in rest if first_q is None or p.created < first_q]
        else:
            window = [p for p in rest if last_q is None or p.created > last_q]
        best = _most_like(scripted.get(key, ""), window)
        if best is None and asked and window:
            best = window[0] if key == "welcome" else _late_enough(items, matched, window)
        if best is not None:
            matched[key] = best
            used.add(best.id)
    return matched


def _late_enough(items: Sequence[ItemRow], matched: dict[str, Post], after: Sequence[Post]
                 ) -> Post | None:
    """The last post after the questions, if it came late enough to be the close.

    Late enough is at least half the scripted gap between the last question asked and the
    close (a follow-up a few minutes after the last question is not a goodbye).
    """
    offsets = {it.key: it.due_offset for it in items}
    last_key, last = max(((k, p) for k, p in matched.items() if k.startswith("q")),
                         key=lambda kp: kp[1].created)
    gap = offsets.get("close", 0.0) - offsets.get(last_key, 0.0)
    candidate = after[-1]
    waited = (candidate.created - last.created).total_seconds()
    return candidate if waited >= gap / 2 else None


def _most_like_item(text: str, items: Sequence[ItemRow]) -> int | None:
    scored = [(similarity(text, it.text), it.number) for it in items]
    best = max(scored, default=(0.0, None), key=lambda s: s[0])
    return best[1] if best[0] >= SIMILAR else None


def _most_like(scripted: str, posts: Sequence[Post]) -> Post | None:
    scored = [(similarity(p.text, scripted), i, p) for i, p in enumerate(posts)]
    scored = [s for s in scored if s[0] >= SIMILAR]
    if not scored:
        return None
    return max(scored, key=lambda s: (s[0], -s[1]))[2]
