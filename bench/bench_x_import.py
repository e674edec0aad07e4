"""Benchmark: `tweetchat import x` on generated twarc2 JSONL, against two yardsticks.

For each size five runs, each in its own subprocess (peak memory is that process's own
ru_maxrss, so sizes and runs never pollute each other):

- tweetchat: `import_x` into a fresh archive: parse, store, group the host's posts into
  sessions, attribute every message (everything the command does);
- ingest: the same with no host account in the script, so nothing is grouped or
  attributed: parse and store (with the full-text index) alone, like for like with
  sqlite-utils below;
- floor: the same rows (same columns, same raw JSON) built with orjson and inserted by plain
  sqlite3 `executemany` in one transaction into a fresh archive (same schema, indexes and
  full-text triggers): what any importer into this archive must pay;
- bare: the same, with no full-text index at all (the physical lower bound);
- sqlite-utils: `sqlite-utils insert --nl --alter` of the flattened twarc2 lines (one
  tweet per line, author inline) into a fresh database, a general-purpose JSON loader.

The input is a weekly chat's history: sessions of 2,000 tweets (welcome, 5 questions,
close, the crowd's answers, replies, quotes and ~8% retweets), as twarc2 search pages of
100 tweets with realistic fields and includes (~2 KB per tweet). Prints a table and writes
bench/results/x_import.json. Generated files are cached in --data-dir.

    .venv/bin/python bench/bench_x_import.py                       # 10k, 100k, 1M
    .venv/bin/python bench/bench_x_import.py --sizes 10000
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "x_import.json"
SQLITE_UTILS = ROOT / ".venv" / "bin" / "sqlite-utils"
LONDON = ZoneInfo("Europe/London")
PER_SESSION = 2000
PAGE = 100
HOST = {"id": "9000001", "username": "nhs_host", "name": "NHS Employers"}
SCRIPT = """\
id: bench
title: Bench chat
hashtag: "#NHSSM"
timezone: Europe/London
host: NHS Employers
schedule:
  weekly: {day: wednesday, start: "20:00"}
  duration: 60m
platforms: [x]
platform_settings: {x: {host_account: nhs_host}}
welcome: Welcome to #NHSSM
questions:
  - {number: 1, at: 5m, text: "One?"}
  - {number: 2, at: 15m, text: "Two?"}
  - {number: 3, at: 25m, text: "Three?"}
  - {number: 4, at: 35m, text: "Four?"}
  - {number: 5, at: 45m, text: "Five?"}
closing: {at: 55m, text: Thanks all}
"""
WORDS = (
    "patients staff nurse ward social media guidance trust digital team share learn support "
    "community leadership change listen voice care quality safety data training time blog "
    "network engage public feedback policy health service doctor students mentor wellbeing "
    "rota shift clinic experience story hospital manager board culture open honest idea"
).split()


# --------------------------------------------------------------------------- generating


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user(rng: random.Random, n: int) -> dict[str, Any]:
    handle = f"{rng.choice(WORDS)}_{n}"
    return {
        "id": str(100_000 + n), "username": handle, "name": handle.replace("_", " ").title(),
        "created_at": "2011-03-04T10:00:00.000Z", "protected": False, "verified": False,
        "location": "Leeds, England", "url": "https://t.co/abcdEFGhij",
        "description": " ".join(rng.choice(WORDS) for _ in range(18)),
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{n}/photo_normal.jpg",
        "public_metrics": {"followers_count": rng.randint(10, 9000), "following_count": 400,
                           "tweet_count": 12000, "listed_count": 40, "like_count": 900},
        "entities": {"url": {"urls": [{"start": 0, "end": 23, "url": "https://t.co/abcdEFGhij",
                                       "expanded_url": "https://example.org/about",
                                       "display_url": "example.org/about"}]}},
    }


def _tweet(rng: random.Random, tid: int, author: dict[str, Any], text: str, at: datetime,
           conversation: int, refs: list[dict[str, str]]) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": str(tid), "text": text, "author_id": author["id"], "created_at": _iso(at),
        "conversation_id": str(conversation), "lang": "en", "possibly_sensitive": False,
        "reply_settings": "everyone", "edit_history_tweet_ids": [str(tid)],
        "source": "Twitter for iPhone",
        "public_metrics": {"retweet_count": rng.randint(0, 5), "reply_count": rng.randint(0, 3),
                           "like_count": rng.randint(0, 20), "quote_count": 0,
                           "bookmark_count": 0, "impression_count": rng.randint(50, 900)},
        "entities": {
            "hashtags": [{"start": len(text) - 6, "end": len(text), "tag": "NHSSM"}],
            "annotations": [{"start": 3, "end": 9, "probability": 0.61,
                             "type": "Organization", "normalized_text": "NHS"}],
        },
        "context_annotations": [
            {"domain": {"id": "66", "name": "Interests and Hobbies Category",
                        "description": "A grouping of interests and hobbies entities"},
             "entity": {"id": "847544972781826048", "name": "Health & wellness"}},
            {"domain": {"id": "131", "name": "Unified Twitter Taxonomy",
                        "description": "A taxonomy view into the Semantic Core knowledge graph"},
             "entity": {"id": "1196446161223028736", "name": "Healthcare"}},
        ],
    }
    if refs:
        tweet["referenced_tweets"] = refs
        if refs[0]["type"] == "replied_to":
            tweet["in_reply_to_user_id"] = str(rng.randint(100_000, 100_500))
    return tweet


HOST_ITEMS = [(0.0, "Welcome to #NHSSM")] + [
    (300.0 + 600 * q, f"Q{q + 1} What about {WORDS[q]}? #NHSSM") for q in range(5)
] + [(3300.0, "Thanks all #NHSSM")]
TWARC = {"url": "https://api.twitter.com/2/tweets/search/all?query=%23NHSSM",
         "version": "2.14.0", "retrieved_at": "2026-01-08T09:00:00+00:00"}


def _session(rng: random.Random, users: list[dict[str, Any]], start: datetime, quota: int,
             first_id: int, counts: dict[str, int]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One chat hour in time order: the host's seven posts and the crowd."""
    plan: list[tuple[float, dict[str, Any], str, str, int]] = [
        (off, HOST, text, "", -1) for off, text in HOST_ITEMS
    ]
    for _ in range(quota - len(HOST_ITEMS)):
        offset = rng.uniform(301, 3599)
        q = min(5, int((offset - 300) // 600) + 1)
        roll = rng.random()
        kind = ("replied_to" if roll < 0.25 else "retweeted" if roll < 0.33
                else "quoted" if roll < 0.38 else "")
        if kind == "retweeted":
            text = f"RT @nhs_host: Q{q} What about {WORDS[q - 1]}? #NHSSM"
            counts["retweets"] += 1
        else:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30)))
            text = f"A{q} {words} #NHSSM"
        plan.append((offset, rng.choice(users), text, kind, q))
    plan.sort(key=lambda p: p[0])
    question_ids: dict[int, int] = {}
    out = []
    for i, (offset, author, text, kind, q) in enumerate(plan):
        tid = first_id + i * 1000  # ids grow with time, as X assigns them
        at = start + timedelta(seconds=offset)
        if author is HOST:
            question_ids[len(question_ids)] = tid  # 0 welcome, 1..5 questions, 6 close
            tweet = _tweet(rng, tid, author, text, at, tid, [])
        else:
            target = question_ids[q]
            refs = [{"type": kind, "id": str(target)}] if kind else []
            tweet = _tweet(rng, tid, author, text, at,
                           target if kind == "replied_to" else tid, refs)
        out.append((tweet, author))
    return out


def generate(n: int, pages_path: Path, flat_path: Path, seed: int = 11) -> dict[str, int]:
    """n tweets as twarc2 pages (newest first, like `twarc2 search`) and flattened lines,
    written one session at a time so generating a million needs little memory."""
    rng = random.Random(seed)
    users = [_user(rng, i) for i in range(max(50, n // 40))]
    sessions = max(1, n // PER_SESSION)
    first = datetime(2026, 1, 7, 20, 0, tzinfo=LONDON) - timedelta(weeks=sessions)
    counts = {"tweets": n, "retweets": 0, "host": sessions * len(HOST_ITEMS)}
    pending: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def write_page(pages: Any, flat: Any, chunk: list[tuple[dict[str, Any], dict[str, Any]]]
                   ) -> None:
        data = [t for t, _ in chunk]
        pages.write(orjson.dumps({
            "data": data, "includes": {"users": list({a["id"]: a for _, a in chunk}.values())},
            "meta": {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"],
                     "result_count": len(data), "next_token": "b26v89c19zqg8o3f"},
            "__twarc": TWARC,
        }) + b"\n")
        for tweet, author in chunk:
            flat.write(orjson.dumps({**tweet, "author": author, "__twarc": TWARC}) + b"\n")

    with open(pages_path, "wb") as pages, open(flat_path, "wb") as flat:
        for s in reversed(range(sessions)):  # newest first
            local = first.astimezone(LONDON) + timedelta(weeks=s)  # 20:00 London, any season
            start = datetime.combine(local.date(), local.time(), LONDON).astimezone(UTC)
            quota = n - PER_SESSION * (sessions - 1) if s == sessions - 1 else PER_SESSION
            first_id = 1_600_000_000_000_000_000 + s * PER_SESSION * 1000
            pending += _session(rng, users, start, quota, first_id, counts)[::-1]
            while len(pending) >= PAGE:
                write_page(pages, flat, pending[:PAGE])
                del pending[:PAGE]
        if pending:
            write_page(pages, flat, pending)
    return counts


# --------------------------------------------------------------------------- the runs


def run_tweetchat(pages: Path, db: Path, script_path: Path) -> dict[str, Any]:
    from bot.archive import Archive
    from bot.platforms.x.importer import import_x
    from bot.script import load_script

    archive = Archive(db)
    report = import_x(archive, pages, load_script(script_path))
    stored = archive.db.execute("select count(*) from messages").fetchone()[0]
    attributed = archive.db.execute(
        "select count(*) from messages where session_id is not null").fetchone()[0]
    archive.close()
    return {"messages": report.messages, "stored": stored, "sessions": len(report.sessions),
            "attributed": attributed, "bad_lines": len(report.bad_lines)}


def _floor_rows(pages: Path, received: str):  # type: ignore[no-untyped-def]
    """The rows tweetchat stores, built as directly as possible (no objects, no checks)."""
    dumps, loads = orjson.dumps, orjson.loads
    with open(pages, "rb") as f:
        for line in f:
            page = loads(line)
            users = {u["id"]: u for u in page.get("includes", {}).get("users", ())}
            meta, twarc = page.get("meta"), page.get("__twarc")
            for t in page["data"]:
                refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", ())}
                if "retweeted" in refs:
                    continue
                u = users.get(t["author_id"], {})
                raw = {"data": t, "includes": {"users": [u], "tweets": []}, "page_meta": meta,
                       "__twarc": twarc}
                created = t["created_at"].replace(".000Z", "+00:00")
                yield ("x", t["id"], None, "bench", t["author_id"], u.get("name"),
                       u.get("username"), t["text"], t["text"], created, refs.get("replied_to"),
                       t.get("conversation_id"), None, None, 0, None, 0, 0, None,
                       t["public_metrics"]["like_count"], 0,
                       f"https://x.com/{u.get('username')}/status/{t['id']}",
                       "quote" if "quoted" in refs else "message", None, "unplaced", "none",
                       0.0, "[]", received, dumps(raw).decode())


def run_floor(pages: Path, db: Path, *, bare: bool = False) -> dict[str, Any]:
    from bot.archive import Archive
    from bot.archive.bulk import _COLUMNS

    archive = Archive(db)
    archive.close()
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if bare:  # no full-text index at all: the physical lower bound for these rows
        for trigger in ("messages_ai", "messages_au", "messages_ad"):
            conn.execute(f"DROP TRIGGER {trigger}")
    sql = f"insert into messages ({', '.join(_COLUMNS)}) values ({', '.join('?' * len(_COLUMNS))})"
    raw_sql = "insert into message_raw (platform, id, raw) values (?, ?, ?)"
    rows = _floor_rows(pages, datetime.now(UTC).isoformat())
    with conn:
        while batch := list(itertools.islice(rows, 5000)):  # the payload goes beside (m003)
            conn.executemany(sql, (r[:-1] for r in batch))
            conn.executemany(raw_sql, ((r[0], r[1], r[-1]) for r in batch))
    stored = conn.execute("select count(*) from messages").fetchone()[0]
    conn.close()
    return {"stored": stored}


def run_sqlite_utils(flat: Path, db: Path) -> dict[str, Any]:
    subprocess.run([str(SQLITE_UTILS), "insert", str(db), "tweets", str(flat), "--nl",
                    "--alter"], check=True)
    import sqlite3

    conn = sqlite3.connect(db)
    stored = conn.execute("select count(*) from tweets").fetchone()[0]
    conn.close()
    return {"stored": stored}


def child(mode: str, data: Path, db: Path, script: Path) -> None:
    started = time.perf_counter()
    if mode == "tweetchat":
        info = run_tweetchat(data, db, script)
    elif mode == "ingest":
        info = run_tweetchat(data, db, script.with_name("bench-ingest.yaml"))
    elif mode == "floor":
        info = run_floor(data, db)
    elif mode == "bare":
        info = run_floor(data, db, bare=True)
    elif mode == "generate":
        info = generate(int(script.name), data, db)
    else:
        info = run_sqlite_utils(data, db)
    seconds = time.perf_counter() - started
    who = resource.RUSAGE_CHILDREN if mode == "sqlite-utils" else resource.RUSAGE_SELF
    peak_mb = resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, **info}))


def measure(mode: str, data: Path, script: Path, work: Path) -> dict[str, Any]:
    db = work / f"{mode}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--data", str(data), "--db", str(db),
         "--script", str(script)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["db_mb"] = round(db.stat().st_size / 2**20, 1)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(),
                                                           "tweetchat-bench-x"))
    parser.add_argument("--child")
    parser.add_argument("--data")
    parser.add_argument("--db")
    parser.add_argument("--script")
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.data), Path(args.db), Path(args.script))
        return

    work = Path(args.data_dir)
    work.mkdir(parents=True, exist_ok=True)
    script = work / "bench.yaml"
    script.write_text(SCRIPT)
    # No host account: nothing is grouped into sessions, so this measures storing alone.
    (work / "bench-ingest.yaml").write_text(
        SCRIPT.replace("host: NHS Employers\n", "").replace(
            "platform_settings: {x: {host_account: nhs_host}}\n", ""))
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        pages, flat = work / f"pages-{n}.jsonl", work / f"flat-{n}.jsonl"
        meta_path = work / f"meta-{n}.json"
        if not (pages.exists() and flat.exists() and meta_path.exists()):
            print(f"generating {n:,} tweets ...", flush=True)
            # In a child too: Linux carries a parent's peak RSS into its children's ru_maxrss.
            out = subprocess.run(
                [sys.executable, __file__, "--child", "generate", "--data", str(pages),
                 "--db", str(flat), "--script", str(n)],
                check=True, capture_output=True, text=True, cwd=ROOT,
            )
            info = json.loads(out.stdout.strip().splitlines()[-1])
            meta_path.write_text(json.dumps({k: info[k] for k in ("tweets", "retweets", "host")}))
        meta = json.loads(meta_path.read_text())
        row: dict[str, Any] = {"tweets": n, "file_mb": round(pages.stat().st_size / 2**20, 1),
                               "bytes_per_tweet": round(pages.stat().st_size / n), **meta}
        for mode, data in (("tweetchat", pages), ("ingest", pages), ("floor", pages),
                           ("bare", pages), ("sqlite-utils", flat)):
            print(f"  {n:>9,} {mode} ...", flush=True)
            result = measure(mode, data, script, work)
            result["tweets_per_s"] = round(n / result["seconds"])
            row[mode] = result
        row["ingest_x_sqlite_utils"] = round(
            row["ingest"]["seconds"] / row["sqlite-utils"]["seconds"], 2)
        row["x_bare"] = round(row["tweetchat"]["seconds"] / row["bare"]["seconds"], 2)
        row["x_floor"] = round(row["tweetchat"]["seconds"] / row["floor"]["seconds"], 2)
        row["x_sqlite_utils"] = round(
            row["tweetchat"]["seconds"] / row["sqlite-utils"]["seconds"], 2)
        rows.append(row)
    print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "target": {"x_floor_max": 2.0, "peak_mb_max_at_1m": 300},
        "rows": rows,
    }, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")


def print_table(rows: list[dict[str, Any]]) -> None:
    modes = ("tweetchat", "ingest", "floor", "bare", "sqlite-utils")
    head = f"{'tweets':>9} {'file MB':>7} | " + " | ".join(
        f"{m + ' t/s':>16} {'s':>6} {'peak MB':>7}" for m in modes
    ) + f" | {'x floor':>7} {'x bare':>6} {'x s-u':>5} {'ingest x s-u':>12}"
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = " | ".join(
            f"{r[m]['tweets_per_s']:>16,} {r[m]['seconds']:>6.1f} {r[m]['peak_mb']:>7.0f}"
            for m in modes
        )
        print(f"{r['tweets']:>9,} {r['file_mb']:>7} | {cells} | {r['x_floor']:>7} "
              f"{r['x_bare']:>6} {r['x_sqlite_utils']:>5} {r['ingest_x_sqlite_utils']:>12}")


if __name__ == "__main__":
    main()
