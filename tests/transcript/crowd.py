"""A busy generated session (2,000 messages by default), the same every time (seeded).

What a big chat holds, in bulk: tagged answers (some for two questions), untagged ones
placed by time or left unplaced, reply chains deeper than the shown depth, replies to
removed messages, host commentary, a second platform, hidden, deleted, redacted and edited
messages, retweets, reactions, links with trailing punctuation, Markdown and HTML
punctuation, spreadsheet-formula starts, multi-line text and right-to-left overrides.
Used to prove that faster rendering paths write the same bytes as the plain ones.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from tests.transcript import sample as S

WORDS = ("patients staff nurse ward social media guidance trust digital team share learn "
         "support community leadership change listen voice care quality safety data training "
         "blog network engage public feedback policy doctor students mentor wellbeing rota "
         "shift clinic story hospital culture open honest idea").split()
ODD = ["=SUM(A1)", "- a list?", "# heading", "1. first", "*bold* _it_ `code` [x](y)",
       "<script>alert(1)</script>", "a & b < c > d \"q\" 'a'", "line one\nline two\r\nthree",
       "\u202eevil\u202c text", "see https://example.org/a_(b)).", "@mention +plus",
       "http://x.test/?a=1&b=2, ok"]
PEOPLE = [(f"p{i}", f"Person {i}" + (" Ünï" if i % 7 == 0 else ""), f"person{i}")
          for i in range(150)]


def session() -> SessionRow:
    """The sample's session, on two platforms."""
    return S.session(platforms=("web", "discord"))


def items() -> list[ItemRow]:
    """The sample's script: welcome, three questions, close."""
    return S.items()


def _text(rng: random.Random, question: int | None) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 18)))
    tag = f"A{question} " if question is not None and rng.random() < 0.7 else ""
    extra = f" {rng.choice(ODD)}" if rng.random() < 0.15 else ""
    link = f" https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 40)}" \
        if rng.random() < 0.05 else ""
    return f"{tag}{words}{extra}{link} #NHSSM"


def messages(n: int = 2000, seed: int = 15) -> list[StoredMessage]:
    """`n` messages in time order over the hour, the scripted posts included."""
    rng = random.Random(seed)
    posts = [m for m in S.messages() if m.id.startswith("w-")]  # the host's scripted posts
    out: list[StoredMessage] = list(posts)
    ids: list[tuple[str, str]] = []
    for i in range(n):
        minute = 60 * i / n + rng.random() * 0.01
        platform = "discord" if rng.random() < 0.2 else "web"
        pid, name, handle = rng.choice(PEOPLE)
        question = 1 if minute < 20 else 2 if minute < 40 else 3
        attr: dict[str, Any] = S.q(question, "tag", 1.0)
        if minute < 5:
            attr = {"section": "welcome", "method": "time", "confidence": 0.5}
        elif minute > 55:
            attr = {"section": "wrapup", "method": "time", "confidence": 0.5}
        elif rng.random() < 0.05:
            attr = {"section": "unplaced", "method": "none", "confidence": 0.0}
        elif rng.random() < 0.05 and question < 3:
            attr["extra_questions"] = (question + 1,)
        kw: dict[str, Any] = {"platform": platform, "reactions": rng.choice([0, 0, 0, 1, 3])}
        if rng.random() < 0.02:
            pid, name, handle = "alexhost", "Alex Host", "alexhost"
            kw["is_host"] = True
            attr = {"section": "host", "method": "host", "confidence": 1.0}
        same_platform = [k for k in ids[-60:] if k[0] == platform]
        if same_platform and rng.random() < 0.45:
            # Mostly the latest messages: chains run deeper than the shown depth.
            kw["reply_to"] = same_platform[-1 if rng.random() < 0.8 else rng.randrange(
                len(same_platform))][1]
        if rng.random() < 0.01:
            kw["hidden"] = True
        elif rng.random() < 0.01:
            kw["deleted"] = True
        elif rng.random() < 0.01:
            kw["redacted_text"] = "[removed by a moderator]"
        elif rng.random() < 0.02:
            kw["edited"] = S.at(minute + 1)
        elif rng.random() < 0.03:
            kw["kind"] = "retweet"
        if rng.random() < 0.3:
            kw["url"] = f"https://chat.example/{platform}/{i}"
        mid = f"c{i}"
        out.append(replace(S.msg(mid, minute, name, _text(rng, question), **kw, **attr),
                           author_id=pid, author_handle=handle if rng.random() < 0.9 else None))
        ids.append((platform, mid))
    out.sort(key=lambda m: (m.created, m.platform, m.id))
    return out


def previous() -> set[tuple[str, str]]:
    """Every third person was here before."""
    return {("web", pid) for pid, _, _ in PEOPLE[::3]}
