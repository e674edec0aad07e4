"""Fixture files for the import equivalence test, and a dump of everything an import stores.

Written from what twarc2 and DiscordChatExporter record (twarc2 search pages with
`includes.users/tweets/media`, `edit_history_tweet_ids`, `note_tweet`, `entities.urls`,
X's `&amp;` escaping; DiscordChatExporter's `timestampEdited`, `reference.type == "Forward"`
with `forwardedMessage`, system message types, attachments, stickers, embeds, reactions,
one file per question thread). Each feature appears at least once, and hostile-looking
text (HTML, script tags, entities) is kept verbatim.

`dump(archive)` is every row an import writes, in a form that does not depend on rowids or
on the wall clock (`received_at` is the import's own time), so two archives compare equal
exactly when they hold the same contents, full-text index included.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bot.archive import Archive

X_START = datetime(2025, 11, 5, 20, 0, tzinfo=UTC)  # a Wednesday, 20:00 in London (GMT)
HOST = {"id": "9000001", "username": "nhs_host", "name": "NHS Employers"}
TWARC = {"url": "https://api.twitter.com/2/tweets/search/all?query=%23NHSSM",
         "version": "2.14.0", "retrieved_at": "2025-11-06T09:00:00+00:00"}
SCRIPT = """\
id: equiv
title: Equivalence chat
hashtag: "#NHSSM"
timezone: Europe/London
host: NHS Employers
schedule:
  weekly: {day: wednesday, start: "20:00"}
  duration: 60m
platforms: [x, discord]
platform_settings: {x: {host_account: nhs_host}}
welcome: "Welcome to"  # as the golden dumps were made (an unquoted " #NHSSM" was a comment)
questions:
  - {number: 1, at: 5m, text: "How do you switch off after a shift?"}
  - {number: 2, at: 20m, text: "Who do you talk to?"}
  - {number: 3, at: 35m, text: "What would you change?"}
closing: {at: 55m, text: Thanks all}
"""


def _user(n: int) -> dict[str, Any]:
    return {"id": str(100 + n), "username": f"nurse_{n}", "name": f"Nurse {n} & Co",
            "created_at": "2012-03-04T10:00:00.000Z", "verified": False,
            "public_metrics": {"followers_count": 10 * n, "following_count": 3}}


USERS = [HOST] + [_user(n) for n in range(1, 7)]


def _tweet(tid: int, user: dict[str, Any], text: str, minute: float, **extra: Any
           ) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": str(tid), "text": text, "author_id": user["id"],
        "conversation_id": extra.pop("conversation_id", str(tid)),
        "created_at": (X_START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "edit_history_tweet_ids": extra.pop("edit_history_tweet_ids", [str(tid)]),
        "lang": "en",
        "public_metrics": {"like_count": extra.pop("likes", 0), "retweet_count": 1,
                           "reply_count": 0, "quote_count": 0},
    }
    tweet.update(extra)
    return tweet


def x_tweets() -> list[dict[str, Any]]:
    """One evening on X with every feature the importer handles."""
    u1, u2, u3, u4, u5, u6 = USERS[1:]
    long_text = "A2 " + " ".join(f"word{i}" for i in range(80)) + " #NHSSM"
    return [
        _tweet(1_000, HOST, "Welcome to #NHSSM tonight &amp; every week", 0),
        _tweet(2_000, HOST, "Q1 How do you switch off after a shift? #NHSSM", 5,
               conversation_id="1000",
               referenced_tweets=[{"type": "replied_to", "id": "1000"}]),
        _tweet(2_100, u1, "A1 a walk https://t.co/walk1 &lt;3 #NHSSM", 6, likes=4,
               entities={"urls": [{"start": 10, "end": 33, "url": "https://t.co/walk1",
                                   "expanded_url": "https://example.org/walks?a=1&b=2",
                                   "display_url": "example.org/walks"}],
                         "hashtags": [{"start": 38, "end": 44, "tag": "NHSSM"}]}),
        _tweet(2_200, u2, "@nhs_host reading <b>novels</b> &amp; <script>x()</script>", 7,
               conversation_id="1000",
               referenced_tweets=[{"type": "replied_to", "id": "2000"}],
               in_reply_to_user_id=HOST["id"]),
        _tweet(2_300, u3, "RT @nurse_1: A1 a walk", 8,
               referenced_tweets=[{"type": "retweeted", "id": "2100"}]),
        _tweet(2_400, u4, "me too", 9, conversation_id="1000",
               referenced_tweets=[{"type": "replied_to", "id": "2200"}]),
        _tweet(2_500, u5, "A1 teh photo", 10, attachments={"media_keys": ["3_1"]}),
        # The later version of 2500: keyed on the original, newest text wins.
        _tweet(2_550, u5, "A1 the photo", 12, attachments={"media_keys": ["3_1"]},
               edit_history_tweet_ids=["2500", "2550"]),
        _tweet(3_000, HOST, "Q2 Who do you talk to? #NHSSM", 20),
        _tweet(3_100, u6, long_text[:270] + "…", 21, note_tweet={"text": long_text}),
        _tweet(3_200, u1, "so true A2 and A3", 22,
               referenced_tweets=[{"type": "quoted", "id": "3100"}]),
        _tweet(3_300, u2, "A2/A3 my team, A 12 minute chat", 23, likes=2),
        _tweet(4_000, HOST, "Question 3: What would you change? #NHSSM", 35),
        _tweet(4_100, u3, "HbA1c is not an answer; A3 rotas", 36),
        _tweet(4_200, u4, "late thought", 50, conversation_id="4000",
               referenced_tweets=[{"type": "replied_to", "id": "4000"}]),
        _tweet(5_000, HOST, "Thanks all #NHSSM", 55),
        _tweet(5_100, HOST, "Transcript soon, thanks for the A1 answers!", 57),
        _tweet(5_200, u1, "after the chat", 70),
    ]


def x_lines() -> list[bytes]:
    """twarc2 pages (newest first, three tweets a page), a flattened line, a v1.1 line."""
    tweets = sorted(x_tweets(), key=lambda t: -int(t["id"]))
    by_id = {t["id"]: t for t in tweets}
    lines = []
    for i in range(0, len(tweets), 3):
        page = tweets[i:i + 3]
        wanted = {r["id"] for t in page for r in t.get("referenced_tweets", ())}
        lines.append(orjson.dumps({
            "data": page,
            "includes": {
                "users": USERS,
                "tweets": [by_id[w] for w in sorted(wanted) if w in by_id],
                "media": [{"media_key": "3_1", "type": "photo",
                           "url": "https://pbs.twimg.com/media/p.jpg"}],
            },
            "meta": {"result_count": len(page), "newest_id": page[0]["id"],
                     "oldest_id": page[-1]["id"]},
            "__twarc": TWARC,
        }))
    flat = _tweet(3_400, USERS[6], "A2 flattened line", 24)
    lines.append(orjson.dumps({**flat, "author": USERS[6], "__twarc": TWARC}))
    lines.append(orjson.dumps({
        "id_str": "3500", "id": 3500, "created_at": "Wed Nov 05 20:25:00 +0000 2025",
        "full_text": "A2 from v1.1 &amp; more https://t.co/v1", "truncated": False,
        "entities": {"urls": [{"url": "https://t.co/v1",
                               "expanded_url": "https://example.org/v1"}]},
        "user": {"id_str": "106", "screen_name": "nurse_6", "name": "Nurse 6 & Co"},
        "favorite_count": 3, "in_reply_to_status_id_str": None,
    }))
    lines.append(b"{not json")
    lines.append(orjson.dumps({"data": [], "meta": {"result_count": 0}}))
    return lines


D_START = datetime(2025, 11, 12, 20, 0, tzinfo=UTC)
GUILD = {"id": "900", "name": "NHS Comms", "iconUrl": "https://cdn.discordapp.com/i.png"}
CHANNEL = {"id": "100", "type": "GuildTextChat", "categoryId": "50", "category": "Chats",
           "name": "nhssm", "topic": None}
THREAD = {"id": "1002", "type": "GuildPublicThread", "categoryId": "100", "category": "nhssm",
          "name": "Q1 How do you switch off after a shift?", "topic": None}


def _author(uid: str, name: str, *, bot: bool = False, nick: str | None = None
            ) -> dict[str, Any]:
    return {"id": uid, "name": name, "discriminator": "0000", "nickname": nick or name,
            "color": None, "isBot": bot, "roles": [], "avatarUrl": "https://cdn/a.png"}


BOT = _author("1", "tweetchat", bot=True)
ANN, BEN, CARA = _author("11", "ann", nick="Ann <b>R</b>"), _author("12", "ben"), \
    _author("13", "cara")


def _msg(mid: int, minute: float, who: dict[str, Any], content: str, **extra: Any
         ) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": str(mid), "type": extra.pop("type", "Default"),
        "timestamp": (D_START + timedelta(minutes=minute)).isoformat(),
        "timestampEdited": extra.pop("edited", None), "callEndedTimestamp": None,
        "isPinned": False, "content": content, "author": who, "attachments": [],
        "embeds": [], "stickers": [], "reactions": [], "mentions": [], "inlineEmojis": [],
    }
    raw.update(extra)
    return raw


def discord_channel() -> list[dict[str, Any]]:
    """The chat channel: host posts by the bot, answers, replies, edits, forwards, media."""
    return [
        _msg(1000, 0, BOT, "Welcome to #NHSSM"),
        _msg(1001, 0.5, ANN, "hello <script>alert(1)</script> &amp; all"),
        _msg(1002, 5, BOT, "**Q1** How do you switch off after a shift?"),
        _msg(1003, 5.5, _author("14", "dee"), "", type="GuildMemberJoin"),
        _msg(1004, 6, BEN, "A1 in the channel", edited=(D_START + timedelta(minutes=8))
             .isoformat(), reactions=[{"emoji": {"id": None, "name": "👍"}, "count": 3}]),
        _msg(1005, 20, BOT, "Q2 Who do you talk to?"),
        _msg(1006, 21, CARA, "my mentor", type="Reply",
             reference={"messageId": "1005", "channelId": "100", "guildId": "900"}),
        _msg(1007, 22, ANN, "agreed", type="Reply",
             reference={"messageId": "1006", "channelId": "100", "guildId": "900"}),
        _msg(1008, 23, BEN, "", reference={"type": "Forward", "messageId": "77",
                                           "channelId": "555", "guildId": "900"},
             forwardedMessage={"timestamp": D_START.isoformat(), "timestampEdited": None,
                               "content": "A2 forwarded <i>wisdom</i>", "attachments": [],
                               "embeds": [], "stickers": []}),
        _msg(1009, 24, CARA, "A2 our rota", attachments=[
            {"id": "5", "url": "https://cdn.discordapp.com/attachments/1/rota.pdf",
             "fileName": "rota.pdf", "fileSizeBytes": 1024}],
             stickers=[{"id": "6", "name": "Wave", "format": "Png",
                        "sourceUrl": "https://media.discordapp.net/stickers/6.png"}],
             embeds=[{"title": "NHS guidance", "url": "https://www.nhs.uk/g",
                      "description": "What to share", "fields": []}]),
        _msg(1010, 25, BOT, "", type="ChannelPinnedMessage"),
        _msg(1011, 35, BOT, "Q3 What would you change?"),
        _msg(1012, 36, ANN, "A3 <b>everything</b> & nothing"),
        _msg(1013, 55, BOT, "Thanks all"),
    ]


def discord_thread() -> list[dict[str, Any]]:
    """The Q1 thread's own export, with its system starter message."""
    return [
        _msg(2000, 5.05, BOT, "", type="ThreadStarterMessage"),
        _msg(2001, 6.2, CARA, "a long bath"),
        _msg(2002, 6.3, ANN, "same", type="Reply",
             reference={"messageId": "2001", "channelId": "1002", "guildId": "900"}),
    ]


def write_discord(folder: Path) -> list[Path]:
    """The thread file first (files come in any order), then the channel."""
    out = []
    for name, channel, messages in (("thread.json", THREAD, discord_thread()),
                                    ("chat.json", CHANNEL, discord_channel())):
        doc = {"guild": GUILD, "channel": channel,
               "dateRange": {"after": None, "before": None},
               "exportedAt": "2025-11-13T09:00:00+00:00", "messages": messages,
               "messageCount": len(messages)}
        path = folder / name
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        out.append(path)
    return out


_ORDER = {
    "messages": "platform, id", "message_raw": "platform, id",
    "message_edits": "platform, id, at, old_text", "participants": "platform, id",
    "sessions": "id", "items": "session_id, position", "posts": "session_id, item_key, platform",
    "chats": "id", "message_reach": "platform, id",
}
_CLOCK_COLUMNS = {"received_at", "first_seen", "updated"}  # the import's own wall clock


def dump(archive: Archive) -> dict[str, Any]:
    """Every row an import writes, rowid- and clock-independent, FTS index included."""
    conn: sqlite3.Connection = archive.db.conn
    out: dict[str, Any] = {}
    for table, order in _ORDER.items():
        cursor = conn.execute(f"select * from {table} order by {order}")
        names = [d[0] for d in cursor.description]
        out[table] = [{k: v for k, v in zip(names, row, strict=True)
                       if k not in _CLOCK_COLUMNS or table == "participants"}
                      for row in cursor]
    keys = dict(conn.execute("select rowid, platform || ':' || id from messages").fetchall())
    conn.execute("create virtual table if not exists temp.fts_terms "
                 "using fts5vocab(main, messages_fts, instance)")
    terms = conn.execute("select term, doc, col, offset from temp.fts_terms").fetchall()
    out["fts"] = sorted([term, keys[doc], col, offset] for term, doc, col, offset in terms)
    conn.execute("drop table temp.fts_terms")
    return out


def import_twice(archive: Archive, run: Callable[[Archive], Any]) -> tuple[list[Any], list[Any]]:
    """Import twice into `archive`: the reports, and a dump after each run.

    Dumped after each run, not only the last: a second import repairs what a first one got
    wrong, which a dump of the end state alone would hide.
    """
    reports, dumps = [], []
    for _ in range(2):
        reports.append(run(archive))
        dumps.append(dump(archive))
    return reports, dumps
