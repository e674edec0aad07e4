"""Chats written the way real hosts write them, with the answer key, for tests and bench.

A host (a bot, or a person with co-hosts) posts a welcome in their own words, the questions
in one of the tag styles seen in real chats (`**Q1**`, `Question 1:`, `Q1/4`, no tag at
all ...), follow-ups ("Great answers to Q1 so far"), a repeat of Q1 for latecomers and a
close. Participants answer with A-tags, by replying to the question, inside a question's
thread, untagged right after the question, and reply to each other. `Chat.expected` says
which question each participant message really answers, so attribution can be scored.

`discord_export` turns a chat into DiscordChatExporter JSON documents (one per channel and
question thread, shaped like its JsonMessageWriter output); `x_pages` into twarc2 search
pages, with what X really sends (escaped text, t.co links, a long post, an edit, a
retweet). Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
    """A generated chat: its posts and which question each participant answered."""
    style: str
    posts: list[Post] = field(default_factory=list)
    expected: dict[int, int | None] = field(default_factory=dict)  # participant id -> question
    question_posts: dict[int, int] = field(default_factory=dict)  # number -> post id

    @property
    def host_posts(self) -> list[Post]:
        """The posts of the host and co-host."""
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


# --------------------------------------------------------------------------- X (twarc2)

X_USERS = {"bot": {"id": "900", "username": "nhs_host", "name": "NHS Host"},
           "cohost": {"id": "901", "username": "cohost", "name": "Co Host"}}


def _x_user(name: str) -> dict[str, str]:
    return X_USERS.get(name) or {"id": str(2000 + NAMES.index(name)), "username": name,
                                 "name": name.title()}


def _x_text(text: str, n: int) -> tuple[str, dict[str, Any]]:
    """Text as X stores it: & escaped, links as t.co with entities."""
    entities: dict[str, Any] = {}
    if "http" in text:
        short = f"https://t.co/x{n:08d}"
        long = text[text.index("http"):].split()[0]
        text = text.replace(long, short)
        entities = {"urls": [{"start": 0, "end": 23, "url": short, "expanded_url": long,
                              "display_url": long.split("//", 1)[1]}]}
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), entities


def x_pages(chat: Chat, *, per_page: int = 50) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The chat as twarc2 search pages (newest first), questions threaded.

    Each of the host's questions is a reply to the host's previous post; also what the
    import should find:
    `{"edited": original id, "long": id, "retweet": id, "links": {id: url}, "amp": [ids]}`.

    Some answers are made to carry what X really sends: `&` (escaped), a link (t.co),
    a long post (note_tweet), an edit (two versions) and a retweet (left out on import).
    """
    conversation: dict[int, int] = {}
    tweets: list[dict[str, Any]] = []
    facts: dict[str, Any] = {"links": {}, "amp": []}
    previous_host: int | None = None
    answers = [p for p in chat.posts if p.kind == "answer" and p.reply_to is None]
    special = {answers[0].id: "amp", answers[1].id: "link", answers[2].id: "long",
               answers[3].id: "edit", answers[4].id: "retweeted"}
    for p in chat.posts:
        text = p.text
        role = special.get(p.id)
        if role == "amp":
            text += " & rotas <3"
            facts["amp"].append(str(p.id))
        elif role == "link":
            text += " https://www.nhsemployers.org/social-media"
            facts["links"][str(p.id)] = "https://www.nhsemployers.org/social-media"
        elif role == "long":
            text += " " + "because confidentiality matters " * 12
            facts["long"] = str(p.id)
        body, entities = _x_text(text, p.id)
        reply_to = p.reply_to
        if p.kind == "question" and previous_host is not None:
            reply_to = previous_host  # the host threads the questions
        conv = conversation.get(reply_to, reply_to) if reply_to else p.id
        conversation[p.id] = conv
        created = (START + timedelta(minutes=p.minute)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        tweet: dict[str, Any] = {
            "id": str(p.id), "text": body, "author_id": _x_user(p.author)["id"],
            "conversation_id": str(conv), "created_at": created,
            "edit_history_tweet_ids": [str(p.id)], "lang": "en",
            "public_metrics": {"like_count": 0, "retweet_count": 0, "reply_count": 0,
                               "quote_count": 0}}
        if entities:
            tweet["entities"] = entities
        if role == "long":
            tweet["note_tweet"] = {"text": body, **({"entities": entities} if entities else {})}
            tweet["text"] = body[:279] + "…"
        if reply_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": str(reply_to)}]
            tweet["in_reply_to_user_id"] = "0"
        tweets.append(tweet)
        if p.author in ("bot", "cohost") and p.kind in ("welcome", "question"):
            previous_host = p.id
        if role == "edit":
            later = dict(tweet, id=str(p.id + 500_000), text=body + " (edited: typo)",
                         edit_history_tweet_ids=[str(p.id), str(p.id + 500_000)],
                         created_at=(START + timedelta(minutes=p.minute + 1)).strftime(
                             "%Y-%m-%dT%H:%M:%S.000Z"))
            tweets.append(later)
            facts["edited"] = str(p.id)
        if role == "retweeted":
            rt = dict(tweet, id=str(p.id + 600_000), author_id=_x_user("kim")["id"],
                      text=f"RT @{p.author}: {body}",
                      referenced_tweets=[{"type": "retweeted", "id": str(p.id)}],
                      edit_history_tweet_ids=[str(p.id + 600_000)])
            tweets.append(rt)
            facts["retweet"] = rt["id"]
    users = [X_USERS["bot"], X_USERS["cohost"], *(_x_user(n) for n in NAMES)]
    newest = sorted(tweets, key=lambda t: (t["created_at"], int(t["id"])), reverse=True)
    pages = []
    for i in range(0, len(newest), per_page):
        page = newest[i:i + per_page]
        pages.append({"data": page, "includes": {"users": users, "tweets": []},
                      "meta": {"result_count": len(page), "newest_id": page[0]["id"]},
                      "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all",
                                  "version": "2.14"}})
    return pages, facts


def write_discord(chat: Chat, directory: Path) -> list[Path]:
    """The chat's DiscordChatExporter files in `directory` (channel first, then threads)."""
    paths = []
    for i, doc in enumerate(discord_export(chat)):
        paths.append(directory / f"export-{i}.json")
        paths[-1].write_text(json.dumps(doc), encoding="utf-8")
    return paths


def write_x(chat: Chat, path: Path) -> dict[str, Any]:
    """The chat as a twarc2 JSONL file at `path`; returns what `x_pages` says to expect."""
    pages, facts = x_pages(chat)
    path.write_text("\n".join(json.dumps(p) for p in pages) + "\n", encoding="utf-8")
    return facts
