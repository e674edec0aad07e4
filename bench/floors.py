"""The floors the command benchmarks compare against, each run in its own process.

What any tool must pay for the same work, done as directly as possible (no objects, no
checks, no full-text index, no sessions or attribution):

    python bench/floors.py x PAGES.jsonl DB         orjson parse, flatten, one executemany
    python bench/floors.py discord EXPORT.json DB   the same for a DiscordChatExporter file
    python bench/floors.py transcript DB SID DIR SIZES
        read the session's rows in order, then write files of the transcript's sizes
    python bench/floors.py vacuum DB                the page size changed by VACUUM alone
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

COLUMNS = ("platform", "id", "author_id", "author_name", "author_handle", "text", "created",
           "reply_to", "thread_id", "reactions", "url", "kind", "raw")


# The archive's page size (bot.archive.store.PAGE_SIZE; a test keeps them equal): what the
# archive's layout saves, the floor has too.
PAGE_SIZE = 16_384


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode=WAL")  # the archive's own durability settings
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"create table messages ({', '.join(COLUMNS)}, primary key (platform, id))")
    return conn


def _store(db: Path, rows: Iterator[tuple[Any, ...]]) -> None:
    conn = _connect(db)
    with conn:
        conn.executemany(f"insert into messages values ({', '.join('?' * len(COLUMNS))})", rows)
    conn.close()


def x_rows(pages: Path) -> Iterator[tuple[Any, ...]]:
    dumps, loads = orjson.dumps, orjson.loads
    with open(pages, "rb") as f:
        for line in f:
            page = loads(line)
            users = {u["id"]: u for u in page["includes"]["users"]}
            meta = page.get("meta")
            for t in page["data"]:
                refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", ())}
                if "retweeted" in refs:
                    continue
                u = users[t["author_id"]]
                raw = {"data": t, "includes": {"users": [u], "tweets": []}, "page_meta": meta}
                yield ("x", t["id"], t["author_id"], u["name"], u["username"], t["text"],
                       t["created_at"], refs.get("replied_to"), t.get("conversation_id"),
                       t["public_metrics"]["like_count"],
                       f"https://x.com/{u['username']}/status/{t['id']}",
                       "quote" if "quoted" in refs else "message", dumps(raw))


def discord_rows(export: Path) -> Iterator[tuple[Any, ...]]:
    dumps = orjson.dumps
    doc = orjson.loads(export.read_bytes())
    channel = doc["channel"]["id"]
    for m in doc["messages"]:
        a = m["author"]
        yield ("discord", m["id"], a["id"], a.get("nickname") or a["name"], a["name"],
               m["content"], m["timestamp"], (m.get("reference") or {}).get("messageId"), None,
               sum(r["count"] for r in m["reactions"]),
               f"https://discord.com/channels/0/{channel}/{m['id']}", "message", dumps(m))


def transcript(db: Path, session_id: int, out: Path, sizes: dict[str, int]) -> None:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "select platform, id, author_id, author_name, author_handle, text, created, reply_to, "
        "thread_id, edited, deleted, hidden, held, redacted_text, reactions, is_host, url, "
        "kind, question, section, method, confidence, extra_questions from messages "
        "where session_id = ? order by created, platform, id", [session_id]).fetchall()
    assert rows, "no rows"
    out.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (out / name).write_bytes(b"x" * size)
    conn.close()


def vacuum(db: Path, page_size: int = PAGE_SIZE) -> None:
    """SQLite's own page-size change: rollback journal, the page size, VACUUM, WAL again."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute(f"PRAGMA page_size={int(page_size)}")
    conn.execute("VACUUM")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "x":
        _store(Path(argv[2]), x_rows(Path(argv[1])))
    elif kind == "discord":
        _store(Path(argv[2]), discord_rows(Path(argv[1])))
    elif kind == "transcript":
        transcript(Path(argv[1]), int(argv[2]), Path(argv[3]), json.loads(argv[4]))
    elif kind == "vacuum":
        vacuum(Path(argv[1]))
    else:
        raise SystemExit(f"unknown floor {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
