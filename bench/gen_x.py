"""Generated twarc2 data for the benchmarks: a weekly chat's history, or one huge hour.

Sessions in time order (welcome, 5 questions, close, the crowd's answers, replies, quotes,
~8% retweets), written as twarc2 search pages of 100 tweets with realistic fields and
includes (~1.4 KB per tweet), newest first like `twarc2 search`, plus the same tweets
flattened one per line (author inline) for `sqlite-utils insert --nl`. Written one session
at a time, so generating a million tweets needs little memory.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

LONDON = ZoneInfo("Europe/London")
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
platforms: [x, discord]
platform_settings: {x: {host_account: nhs_host}}
welcome: "Welcome to #NHSSM"
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
HOST_ITEMS = [(0.0, "Welcome to #NHSSM")] + [
    (300.0 + 600 * q, f"Q{q + 1} What about {WORDS[q]}? #NHSSM") for q in range(5)
] + [(3300.0, "Thanks all #NHSSM")]
TWARC = {"url": "https://api.twitter.com/2/tweets/search/all?query=%23NHSSM",
         "version": "2.14.0", "retrieved_at": "2026-01-08T09:00:00+00:00"}

Planned = tuple[float, dict[str, Any], str, str, int]  # offset, author, text, kind, question


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(rng: random.Random, n: int) -> dict[str, Any]:
    """One twarc2 `includes.users` entry."""
    handle = f"{rng.choice(WORDS)}_{n}"
    return {
        "id": str(100_000 + n), "username": handle, "name": handle.replace("_", " ").title(),
        "created_at": "2011-03-04T10:00:00.000Z", "protected": False, "verified": False,
        "location": "Leeds, England", "url": "https://t.co/abcdEFGhij",
        "description": " ".join(rng.choice(WORDS) for _ in range(12)),
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{n}/photo_normal.jpg",
        "public_metrics": {"followers_count": rng.randint(10, 9000), "following_count": 400,
                           "tweet_count": 12000, "listed_count": 40, "like_count": 900},
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
        "entities": {"hashtags": [{"start": len(text) - 6, "end": len(text), "tag": "NHSSM"}]},
        "context_annotations": [
            {"domain": {"id": "66", "name": "Interests and Hobbies Category",
                        "description": "A grouping of interests and hobbies entities"},
             "entity": {"id": "847544972781826048", "name": "Health & wellness"}},
        ],
    }
    if refs:
        tweet["referenced_tweets"] = refs
        if refs[0]["type"] == "replied_to":
            tweet["in_reply_to_user_id"] = str(rng.randint(100_000, 100_500))
    return tweet


def plan_session(rng: random.Random, users: list[dict[str, Any]], quota: int
                 ) -> list[Planned]:
    """One hour's posts in time order: the host's seven and `quota` minus seven others."""
    plan: list[Planned] = [(off, HOST, text, "", -1) for off, text in HOST_ITEMS]
    for _ in range(quota - len(HOST_ITEMS)):
        offset = rng.uniform(301, 3599)
        q = min(5, int((offset - 300) // 600) + 1)
        roll = rng.random()
        kind = ("replied_to" if roll < 0.25 else "retweeted" if roll < 0.33
                else "quoted" if roll < 0.38 else "")
        if kind == "retweeted":
            text = f"RT @nhs_host: Q{q} What about {WORDS[q - 1]}? #NHSSM"
        else:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30)))
            tag = f"A{q} " if rng.random() < 0.7 else ""
            text = f"{tag}{words} #NHSSM"
        plan.append((offset, rng.choice(users), text, kind, q))
    plan.sort(key=lambda p: p[0])
    return plan


def _session(rng: random.Random, users: list[dict[str, Any]], start: datetime, quota: int,
             first_id: int, counts: dict[str, int]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    question_ids: dict[int, int] = {}
    out = []
    for i, (offset, author, text, kind, q) in enumerate(plan_session(rng, users, quota)):
        tid = first_id + i * 1000  # ids grow with time, as X assigns them
        at = start + timedelta(seconds=offset)
        if author is HOST:
            question_ids[len(question_ids)] = tid  # 0 welcome, 1..5 questions, 6 close
            tweet = _tweet(rng, tid, author, text, at, tid, [])
        else:
            counts["retweets"] += kind == "retweeted"
            target = question_ids[q]
            refs = [{"type": kind, "id": str(target)}] if kind else []
            tweet = _tweet(rng, tid, author, text, at,
                           target if kind == "replied_to" else tid, refs)
        out.append((tweet, author))
    return out


def weekly_sessions(n: int, per_session: int) -> list[tuple[datetime, int]]:
    """(UTC start, messages) of each weekly 20:00 London session, oldest first, ending the
    week before 2026-01-07 (any season: the zone's offset is right for each date)."""
    count = max(1, n // per_session)
    first = datetime(2026, 1, 7, 20, 0, tzinfo=LONDON) - timedelta(weeks=count)
    out = []
    for s in range(count):
        local = first + timedelta(weeks=s)
        start = datetime.combine(local.date(), local.time(), LONDON).astimezone(UTC)
        out.append((start, n - per_session * (count - 1) if s == count - 1 else per_session))
    return out


def generate_x(n: int, pages_path: Path, flat_path: Path, *, per_session: int = 2000,
               seed: int = 11) -> dict[str, int]:
    """n tweets as twarc2 pages and as flattened lines; sessions of `per_session` tweets."""
    rng = random.Random(seed)
    users = [user(rng, i) for i in range(max(50, n // 40))]
    sessions = weekly_sessions(n, per_session)
    counts = {"tweets": n, "retweets": 0, "host": len(sessions) * len(HOST_ITEMS)}
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
        for s, (start, quota) in reversed(list(enumerate(sessions))):  # newest first
            first_id = 1_600_000_000_000_000_000 + s * per_session * 1000
            pending += _session(rng, users, start, quota, first_id, counts)[::-1]
            while len(pending) >= PAGE:
                write_page(pages, flat, pending[:PAGE])
                del pending[:PAGE]
        if pending:
            write_page(pages, flat, pending)
    return counts
