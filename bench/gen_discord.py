"""Generated DiscordChatExporter JSON for the benchmarks: a channel's weekly chats.

One export file (`{"guild", "channel", "dateRange", "exportedAt", "messages": [...],
"messageCount"}`) with the fields DiscordChatExporter's JSON writer emits for each message
(author with roles and avatar, attachments, embeds, stickers, reactions with emoji,
mentions, reference for replies), oldest first as exported. The bot posts the welcome,
questions and close; people answer with A-tags, replies and reactions. The same messages
are also written one per line for `sqlite-utils insert --nl`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.gen_x import HOST, HOST_ITEMS, WORDS, plan_session, weekly_sessions

GUILD = {"id": "869237470565392384", "name": "NHS Comms",
         "iconUrl": "https://cdn.discordapp.com/icons/869237470565392384/a1b2c3.png"}
CHANNEL = {"id": "869237470565392387", "type": "GuildTextChat", "categoryId": "869237470565392385",
           "category": "Chats", "name": "nhssm", "topic": "Weekly #NHSSM chat"}
BOT = {"id": "1000000000000000001", "name": "tweetchat", "discriminator": "0000",
       "nickname": "tweetchat", "color": None, "isBot": True, "roles": [],
       "avatarUrl": "https://cdn.discordapp.com/avatars/1000000000000000001/x.png"}


def _author(rng: random.Random, n: int) -> dict[str, Any]:
    name = f"{rng.choice(WORDS)}_{n}"
    return {"id": str(2_000_000_000_000_000_000 + n), "name": name, "discriminator": "0000",
            "nickname": name.replace("_", " ").title(), "color": "#3498DB", "isBot": False,
            "roles": [{"id": "869237470565392390", "name": "Member", "color": "#3498DB",
                       "position": 1}],
            "avatarUrl": f"https://cdn.discordapp.com/avatars/{n}/a_{n:08x}.png"}


def _message(rng: random.Random, mid: int, at: datetime, who: dict[str, Any], text: str,
             reply_to: int | None) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "id": str(mid), "type": "Reply" if reply_to else "Default",
        "timestamp": at.isoformat(timespec="milliseconds"), "timestampEdited": None,
        "callEndedTimestamp": None, "isPinned": False, "content": text, "author": who,
        "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": [],
        "inlineEmojis": [],
    }
    if rng.random() < 0.3:
        msg["reactions"] = [{"emoji": {"id": "", "name": "👍", "code": "thumbsup",
                                       "isAnimated": False,
                                       "imageUrl": "https://cdn.jsdelivr.net/1f44d.svg"},
                             "count": rng.randint(1, 6), "users": []}]
    if reply_to:
        msg["reference"] = {"messageId": str(reply_to), "channelId": CHANNEL["id"],
                            "guildId": GUILD["id"]}
    return msg


def generate_discord(n: int, export_path: Path, flat_path: Path, *, per_session: int = 2000,
                     seed: int = 13) -> dict[str, int]:
    """n messages in weekly sessions of `per_session`, as one channel export and as lines."""
    rng = random.Random(seed)
    people = [_author(rng, i) for i in range(max(50, n // 40))]
    sessions = weekly_sessions(n, per_session)
    with open(export_path, "wb") as out, open(flat_path, "wb") as flat:
        head = orjson.dumps({"guild": GUILD, "channel": CHANNEL,
                             "dateRange": {"after": None, "before": None},
                             "exportedAt": "2026-01-08T09:00:00+00:00"})
        out.write(head[:-1] + b',"messages":[')
        written = 0
        for s, (start, quota) in enumerate(sessions):
            base = 1_100_000_000_000_000_000 + s * per_session * 1000
            posted: dict[int, int] = {}
            for i, (offset, who, text, kind, q) in enumerate(plan_session(rng, people, quota)):
                mid = base + i * 1000
                at = start + timedelta(seconds=offset)
                if who is HOST:
                    posted[len(posted)] = mid  # 0 welcome, 1..5 questions, 6 close
                    msg = _message(rng, mid, at, BOT, text.replace(" #NHSSM", ""), None)
                else:
                    reply = posted[q] if kind == "replied_to" else None
                    if kind == "retweeted":  # no retweets on Discord: a plain remark
                        text = f"agree with this {rng.choice(WORDS)}"
                    msg = _message(rng, mid, at, who, text.replace(" #NHSSM", ""), reply)
                line = orjson.dumps(msg)
                out.write((b"," if written else b"") + line)
                flat.write(line + b"\n")
                written += 1
        out.write(b'],"messageCount":' + str(written).encode() + b"}")
    return {"messages": n, "host": len(sessions) * len(HOST_ITEMS)}
