"""Chats written the way real hosts write them, with the answer key, for tests and bench.

A host (a bot, or a person with co-hosts) posts a welcome in their own words, the questions
in one of the tag styles seen in real chats (`**Q1**`, `Question 1:`, `Q1/4`, no tag at
all ...), follow-ups ("Great answers to Q1 so far"), a repeat of Q1 for latecomers and a
close. Participants answer with A-tags, by replying to the question, inside a question's
thread, untagged right after the question, and reply to each other. `Chat.expected` says
which question each participant message really answers, so attribution can be scored.

`discord_export` turns a chat into DiscordChatExporter JSON documents (one per channel and
question thread, shaped like its JsonMessageWriter output). Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)  # a Wednesday 20:00 in London (GMT)

QUESTIONS = (
    "How do you keep patient information private when you post about work?",
    "Which social media channels does your team use to reach patients?",
    "What would help your trust share good news stories more often?",
    "Who checks a post before it goes out on your service's accounts?",
)
WELCOME = "Welcome to tonight's chat about confidentiality and social media."
CLOSING = "That's all for tonight, thank you. The transcript follows tomorrow."

SCRIPT_YAML = (
    "id: {id}\n"
    "title: Confidentiality online\n"
    'hashtag: "#TestChat"\n'
    "timezone: Europe/London\n"
    "host: NHS Host\n"
    "hosts: [cohost]\n"
    "schedule:\n  weekly:\n    day: wednesday\n    start: \"20:00\"\n  duration: 60m\n"
    "platforms: [discord, x]\n"
    f"welcome: {WELCOME}\n"
    "questions:\n"
    + "".join(f"  - number: {i}\n    at: {i * 10}m\n    text: \"{q}\"\n"
              for i, q in enumerate(QUESTIONS, 1))
    + f"closing:\n  at: 55m\n  text: \"{CLOSING}\"\n"
)

# How hosts label a question, as seen in real chats. `None` for "no label at all".
STYLES: dict[str, Callable[[int, str], str]] = {
    "plain": lambda n, t: f"Q{n} {t}",
    "bold": lambda n, t: f"**Q{n}** {t}",
    "underline": lambda n, t: f"__Q{n}__ {t}",
    "italic": lambda n, t: f"*Q{n}* {t}",
    "colon": lambda n, t: f"Q{n}: {t}",
    "dot": lambda n, t: f"Q{n}. {t}",
    "spaced": lambda n, t: f"Q {n} {t}",
    "word": lambda n, t: f"Question {n}: {t}",
    "of-total": lambda n, t: f"Q{n}/{len(QUESTIONS)} {t} #TestChat",
    "hashtag-first": lambda n, t: f"#TestChat Q{n} {t}",
    "untagged": lambda n, t: t,
}

NAMES = ("ann", "ben", "cara", "dev", "eve", "fin", "gus", "hal", "ida", "jo", "kim", "lou")


@dataclass(frozen=True)
class Post:
    """One message of the chat, platform-neutral."""

    id: int
    minute: float
    author: str  # "bot", "cohost" or a participant's name
    text: str
    reply_to: int | None = None
    thread: int | None = None  # the question post whose thread it is in
    kind: str = "answer"  # welcome, question, close, host, answer, reply, other


@dataclass
class Chat:
    style: str
    posts: list[Post] = field(default_factory=list)
    expected: dict[int, int | None] = field(default_factory=dict)  # participant id -> question
    question_posts: dict[int, int] = field(default_factory=dict)  # number -> post id

    @property
    def host_posts(self) -> list[Post]:
        return [p for p in self.posts if p.author in ("bot", "cohost")]


def make_chat(style: str, *, seed: int = 1, threads: bool = False, people: int = 8) -> Chat:
    """One hour-long chat whose host labels questions in `style`."""
    rng = random.Random(f"{style}:{seed}")
    label = STYLES[style]
    chat = Chat(style)
    ids = iter(range(10_000, 99_999))

    def add(minute: float, author: str, text: str, kind: str, *, reply_to: int | None = None,
            thread: int | None = None, answers: int | None = None) -> int:
        post = Post(next(ids), minute, author, text, reply_to, thread, kind)
        chat.posts.append(post)
        if author not in ("bot", "cohost"):
            chat.expected[post.id] = answers
        return post.id

    add(0, "bot", "Hello everyone and welcome! Grab a cuppa, we start in a moment.", "welcome")
    add(2, ANN_SAYS_HI[0], ANN_SAYS_HI[1], "other")
    for n, question in enumerate(QUESTIONS, 1):
        at = n * 10.0
        qid = add(at, "bot", label(n, question), "question")
        chat.question_posts[n] = qid
        where = qid if threads else None
        answers: list[int] = []
        for i, name in enumerate(rng.sample(NAMES[:people], people)):
            minute = at + 0.5 + i * 0.6
            form = rng.choice(("tag", "bold-tag", "reply", "untagged", "tag-end"))
            if threads:
                form = rng.choice(("thread", "tag"))
            words = f"we {rng.choice(('always', 'never', 'sometimes'))} check with IG first"
            if form == "tag":
                aid = add(minute, name, f"A{n} {words}", "answer", thread=where, answers=n)
            elif form == "bold-tag":
                aid = add(minute, name, f"**A{n}** {words}", "answer", answers=n)
            elif form == "tag-end":
                aid = add(minute, name, f"{words} #TestChat A{n}", "answer", answers=n)
            elif form == "reply":
                aid = add(minute, name, words, "answer", reply_to=qid, answers=n)
            elif form == "thread":
                aid = add(minute, name, words, "answer", thread=qid, answers=n)
            else:
                aid = add(minute, name, words, "answer", answers=n)
            answers.append(aid)
        for j in range(3):  # conversations under answers
            parent = rng.choice(answers)
            add(at + 6 + j * 0.5, rng.choice(NAMES[:people]), "good point, same here", "reply",
                reply_to=parent, thread=where, answers=n)
        add(at + 7.5, "bot", f"Great answers to Q{n} so far, keep them coming!", "host")
        add(at + 8, "cohost", "Reminder: start your answer with A and the number",
            "host")
        if n == 2:  # the host repeats Q1 after Q2 for latecomers; a late answer follows
            add(at + 8.5, "bot", f"Q1 again for latecomers: {QUESTIONS[0]}", "host")
            add(at + 9, "lou", "A1 late but: we anonymise everything", "answer", answers=1)
    add(55, "bot", "That's all for tonight, thank you! Transcript tomorrow.", "close")
    add(56, "ben", "thanks all, great chat", "other")
    return chat


ANN_SAYS_HI = ("ann", "hi all, first time here")


# --------------------------------------------------------------------------- Discord

GUILD = {"id": "900", "name": "NHS Comms", "iconUrl": ""}
CHANNEL_ID = "100"


def _author(name: str) -> dict[str, Any]:
    uid = {"bot": "1", "cohost": "2"}.get(name, str(1000 + NAMES.index(name)) if name in NAMES
                                          else "3")
    return {"id": uid, "name": name, "discriminator": "0000", "nickname": name.title(),
            "color": None, "isBot": name == "bot", "roles": [], "avatarUrl": ""}


def _discord_message(p: Post) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": str(p.id), "type": "Reply" if p.reply_to else "Default",
        "timestamp": (START + timedelta(minutes=p.minute)).isoformat(),
        "timestampEdited": None, "callEndedTimestamp": None, "isPinned": False,
        "content": p.text, "author": _author(p.author), "attachments": [], "components": [],
        "embeds": [], "stickers": [], "reactions": [], "mentions": [], "inlineEmojis": [],
    }
    if p.reply_to:
        raw["reference"] = {"type": "Default", "messageId": str(p.reply_to),
                            "channelId": str(p.thread or CHANNEL_ID), "guildId": GUILD["id"]}
    return raw


def discord_export(chat: Chat) -> list[dict[str, Any]]:
    """The chat as DiscordChatExporter documents: the channel, then one per question thread."""
    def doc(channel: dict[str, Any], posts: list[Post]) -> dict[str, Any]:
        messages = [_discord_message(p) for p in posts]
        return {"guild": GUILD, "channel": channel,
                "dateRange": {"after": None, "before": None},
                "exportedAt": "2026-01-08T09:00:00+00:00", "messages": messages,
                "messageCount": len(messages)}

    channel = {"id": CHANNEL_ID, "type": "GuildTextChat", "categoryId": "50",
               "category": "Chats", "name": "nhssm", "topic": None}
    docs = [doc(channel, [p for p in chat.posts if p.thread is None])]
    for n, qid in chat.question_posts.items():
        inside = [p for p in chat.posts if p.thread == qid]
        if inside:
            thread = {"id": str(qid), "type": "GuildPublicThread", "categoryId": CHANNEL_ID,
                      "category": "nhssm", "name": f"Q{n}", "topic": None}
            starter = {**_discord_message(Post(qid + 500_000, inside[0].minute - 0.01, "bot",
                                               "")), "type": "ThreadStarterMessage",
                       "reference": {"type": "Default", "messageId": str(qid),
                                     "channelId": CHANNEL_ID, "guildId": GUILD["id"]}}
            docs.append(doc(thread, [], ) | {"messages": [starter] + [
                _discord_message(p) for p in inside]})
    return docs
