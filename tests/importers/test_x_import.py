"""Importing archived tweets (twarc2 pages, flattened twarc2, v1.1) into a real archive."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.archive import Archive
from bot.platforms.x.importer import import_x, parse_lines
from bot.script import ChatScript, load_script
from tests.conftest import write_script

SCRIPT = """\
id: {id}
title: NHS social media chat
hashtag: "#NHSSM"
timezone: Europe/London
host: NHS Employers
schedule:
  weekly:
    day: wednesday
    start: "20:00"
  duration: 60m
platforms: [x]
platform_settings:
  x:
    host_account: nhs_host
welcome: "Welcome to #NHSSM."
questions:
  - number: 1
    at: 10m
    text: What helps you switch off?
  - number: 2
    at: 25m
    text: Who do you talk to?
closing:
  at: 55m
  text: Thanks all.
"""
# Wednesday 23 January 2013, 20:00 in London (GMT) = 20:00 UTC.
START = datetime(2013, 1, 23, 20, 0, tzinfo=UTC)
HOST = {"id": "900", "username": "nhs_host", "name": "NHS Employers"}


@pytest.fixture
def script(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats", SCRIPT, chat_id="nhssm"))


@pytest.fixture
def archive(tmp_path: Path) -> Any:
    a = Archive(tmp_path / "archive.db")
    yield a
    a.close()


def _v2(tid: int, user: dict[str, str], text: str, minute: float, **extra: Any) -> dict[str, Any]:
    tweet = {
        "id": str(tid),
        "text": text,
        "author_id": user["id"],
        "conversation_id": extra.pop("conversation_id", str(tid)),
        "created_at": (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "public_metrics": {"like_count": extra.pop("likes", 0), "retweet_count": 0},
    }
    tweet.update(extra)
    return tweet


def _user(n: int) -> dict[str, str]:
    return {"id": str(100 + n), "username": f"user{n}", "name": f"User {n}"}


def chat_tweets() -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """A small 2013-style chat in v2 shape: the host's posts and a crowd."""
    host = [
        _v2(1000, HOST, "Welcome to #NHSSM.", 0),
        _v2(2000, HOST, "Q1 What helps you switch off? #NHSSM", 10),
        _v2(3000, HOST, "Q2 Who do you talk to? #NHSSM", 25),
        _v2(4000, HOST, "Thanks all. #NHSSM", 55),
    ]
    u1, u2, u3 = _user(1), _user(2), _user(3)
    crowd = [
        _v2(2100, u1, "A1 a long walk #NHSSM", 12, likes=4),
        _v2(2200, u2, "@nhs_host reading", 13, conversation_id="2000",
            referenced_tweets=[{"type": "replied_to", "id": "2000"}]),
        _v2(2300, u3, "RT @user1: A1 a long walk #NHSSM", 14,
            referenced_tweets=[{"type": "retweeted", "id": "2100"}]),
        _v2(3100, u3, "A2 my team #NHSSM", 27),
        _v2(3200, u1, "so true #NHSSM", 28, referenced_tweets=[{"type": "quoted", "id": "3100"}]),
    ]
    return host + crowd, [HOST, u1, u2, u3]


def page_lines(tweets: list[dict[str, Any]], users: list[dict[str, str]], per_page: int = 4
               ) -> list[bytes]:
    newest_first = sorted(tweets, key=lambda t: -int(t["id"]))
    lines = []
    for i in range(0, len(newest_first), per_page):
        page = newest_first[i : i + per_page]
        lines.append(orjson.dumps({
            "data": page,
            "includes": {"users": users, "tweets": []},
            "meta": {"result_count": len(page), "newest_id": page[0]["id"]},
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all", "version": "2.14"},
        }))
    return lines


def table_hash(archive: Archive) -> str:
    rows = archive.db.execute("select * from messages order by platform, id").fetchall()
    return hashlib.sha256(orjson.dumps([list(r) for r in rows], default=str)).hexdigest()


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_twarc2_pages_make_an_attributed_session(
    tmp_path: Path, archive: Archive, script: ChatScript
) -> None:
    tweets, users = chat_tweets()
    path = _write(tmp_path / "chat.jsonl", page_lines(tweets, users))
    report = import_x(archive, path, script)

    assert report.read == 3 and report.bad_lines == []
    assert report.messages == 8 and report.skipped == 1  # the retweet is left out
    assert report.host_posts == 4 and len(report.sessions) == 1
    session = archive.session(report.sessions[0])
    assert session.scheduled_start == START and session.status == "ended"
    items = {i.key: i for i in archive.items(session.id)}
    assert items["q1"].refs == {"x": "2000"} and items["close"].refs == {"x": "4000"}
    by_id = {m.id: m for m in archive.messages(session.id, include_raw=True)}
    assert "2300" not in by_id
    assert (by_id["2100"].question, by_id["2100"].method) == (1, "tag")
    assert (by_id["2200"].question, by_id["2200"].method) == (1, "reply")
    assert by_id["3100"].question == 2 and by_id["3200"].kind == "quote"
    assert by_id["2000"].is_host and (by_id["2000"].section, by_id["2000"].question) == ("host", 1)
    assert by_id["2100"].reactions == 4 and by_id["2100"].author_handle == "user1"
    raw = by_id["2100"].raw
    assert raw is not None and raw["data"]["id"] == "2100" and "__twarc" in raw
    assert [u["username"] for u in raw["includes"]["users"]] == ["user1"]


def test_importing_twice_changes_nothing(
    tmp_path: Path, archive: Archive, script: ChatScript
) -> None:
    tweets, users = chat_tweets()
    path = _write(tmp_path / "chat.jsonl", page_lines(tweets, users))
    first = import_x(archive, path, script)
    before = table_hash(archive)
    counts = [archive.db.execute(f"select count(*) from {t}").fetchone()[0]
              for t in ("messages", "sessions", "items", "participants")]
    second = import_x(archive, path, script)
    assert second.changed == 0 and first.changed > 0
    assert second.sessions == first.sessions
    assert table_hash(archive) == before
    assert counts == [archive.db.execute(f"select count(*) from {t}").fetchone()[0]
                      for t in ("messages", "sessions", "items", "participants")]


def test_flattened_and_v1_lines_and_bad_lines_mix(
    tmp_path: Path, archive: Archive, script: ChatScript
) -> None:
    tweets, users = chat_tweets()
    by_user = {u["id"]: u for u in users}
    flat = [orjson.dumps({**t, "author": by_user[t["author_id"]], "__twarc": {}})
            for t in tweets[:5]]
    v1 = {
        "id_str": "3150", "created_at": "Wed Jan 23 20:30:00 +0000 2013",
        "full_text": "A2 the canteen crowd #NHSSM", "favorite_count": 2,
        "user": {"id_str": "555", "screen_name": "old_nurse", "name": "Old Nurse"},
        "in_reply_to_status_id_str": None,
    }
    v1_reply = {
        "id_str": "3160", "created_at": "Wed Jan 23 20:31:00 +0000 2013",
        "text": "@old_nurse yes!", "in_reply_to_status_id_str": "3150",
        "user": {"id_str": "556", "screen_name": "ward_sister", "name": "Ward Sister"},
    }
    v1_retweet = {**v1, "id_str": "3170", "retweeted_status": v1}
    lines = [
        *flat, b"{not json", orjson.dumps(v1), b"", orjson.dumps(v1_reply),
        orjson.dumps(v1_retweet), b"[1, 2]", orjson.dumps({"id_str": "1", "user": {}}),
        orjson.dumps({"id_str": "2", "created_at": "yesterday", "user": {"id_str": "3"}}),
    ]
    path = _write(tmp_path / "mixed.jsonl", lines)
    report = import_x(archive, path, script)
    assert report.bad_lines == [6, 11, 12, 13]
    assert report.read == 12  # the blank line is not a record
    assert report.skipped == 1 and report.messages == 7
    session_id = report.sessions[0]
    by_id = {m.id: m for m in archive.messages(session_id, include_raw=True)}
    assert by_id["3150"].question == 2 and by_id["3150"].author_handle == "old_nurse"
    assert by_id["3150"].created == START + timedelta(minutes=30)
    assert by_id["3160"].reply_to == "3150" and by_id["3160"].question == 2
    assert by_id["3150"].raw is not None and by_id["3150"].raw["id_str"] == "3150"
    assert by_id["2100"].raw is not None and by_id["2100"].raw["author"]["username"] == "user1"
    assert "3170" not in by_id


def test_host_account_from_settings_recognises_the_host(
    tmp_path: Path, archive: Archive, script: ChatScript
) -> None:
    other_host = {"id": "901", "username": "guest_host", "name": "Guest"}
    tweets = [
        _v2(1000, other_host, "Welcome to #NHSSM.", 0),
        _v2(2000, other_host, "Q1 What helps you switch off? #NHSSM", 10),
        _v2(2100, _user(1), "A1 tea #NHSSM", 11),
    ]
    path = _write(tmp_path / "guest.jsonl", page_lines(tweets, [other_host, _user(1)]))
    assert import_x(archive, path, script).sessions == []  # not the script's host account
    report = import_x(archive, path, script, host_accounts=["@guest_host"])
    assert report.host_posts == 2 and len(report.sessions) == 1
    assert archive.message("x", "2100").question == 1  # type: ignore[union-attr]


def test_parser_streams_and_reports_progress_in_bytes() -> None:
    tweets, users = chat_tweets()
    lines = [line + b"\n" for line in page_lines(tweets, users, per_page=1)]
    seen: list[int] = []
    consumed = 0

    def counting() -> Any:
        nonlocal consumed
        for line in lines:
            consumed += 1
            yield line

    parsed = parse_lines(counting(), seen.append)
    first = next(parsed)
    assert first.message is not None and consumed == 1  # one line read, not the whole file
    rest = list(parsed)
    assert len(rest) == len(lines) - 1
    assert sum(seen) == sum(len(line) for line in lines)


def test_imported_tweets_are_searchable_and_the_index_follows_moderation(
    tmp_path: Path, archive: Archive, script: ChatScript
) -> None:
    from bot.archive import search

    tweets, users = chat_tweets()
    tweets.append(_v2(3300, _user(4), "A2 the canteen rule #NHSSM", 30))
    import_x(archive, _write(tmp_path / "chat.jsonl", page_lines(tweets, users + [_user(4)])),
             script)
    assert [h.message_id for h in search(archive, "canteen")] == ["3300"]
    # Author handles are indexed too.
    assert {h.message_id for h in search(archive, "user1")} >= {"2100"}
    # Attribution rewrote every row; the index must still hold each message exactly once.
    fts_rows = archive.db.execute("select count(*) from messages_fts_docsize").fetchone()[0]
    assert fts_rows == archive.db.execute("select count(*) from messages").fetchone()[0]
    archive.set_moderation_state("x", "3300", hidden=True)
    assert search(archive, "canteen") == []
