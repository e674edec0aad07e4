"""Any JSON value in any field an X tweet is read from: a bad line or a sane row, never a crash."""

from __future__ import annotations

import copy
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive
from bot.platforms.x.importer import import_x
from bot.script import load_script
from tests.conftest import write_script
from tests.importers.test_x_import import HOST, SCRIPT, _v2

AUTHOR = {"id": "101", "username": "ann", "name": "Ann",
          "public_metrics": {"followers_count": 7}}


def _page_line() -> dict[str, Any]:
    tweet = _v2(2001, AUTHOR, "A1 rest #NHSSM", 12, likes=3,
                edit_history_tweet_ids=["2001"])
    return {"data": [tweet], "includes": {"users": [AUTHOR]}, "meta": {"result_count": 1}}


def _flat_line() -> dict[str, Any]:
    return {**_v2(2002, AUTHOR, "A1 walks #NHSSM", 13, likes=1), "author": dict(AUTHOR)}


def _v1_line() -> dict[str, Any]:
    return {"id_str": "2003", "id": 2003, "full_text": "A2 friends #NHSSM",
            "created_at": "Wed Jan 23 20:30:00 +0000 2013", "favorite_count": 2,
            "in_reply_to_status_id_str": None,
            "user": {"id_str": "102", "screen_name": "bo", "name": "Bo",
                     "followers_count": 5}}


# Every field the converters read, as a path into each kind of line.
FIELDS: list[tuple[Any, tuple[Any, ...]]] = [
    *((_page_line, ("data", 0, f)) for f in (
        "id", "author_id", "created_at", "text", "conversation_id", "public_metrics",
        "referenced_tweets", "edit_history_tweet_ids", "note_tweet", "entities",
        "attachments")),
    (_page_line, ("data", 0, "public_metrics", "like_count")),
    *((_page_line, ("includes", "users", 0, f)) for f in (
        "id", "username", "name", "public_metrics")),
    (_page_line, ("includes", "users", 0, "public_metrics", "followers_count")),
    (_page_line, ("includes",)), (_page_line, ("meta",)), (_page_line, ("data",)),
    *((_flat_line, (f,)) for f in ("id", "author_id", "created_at", "text", "author")),
    *((_flat_line, ("author", f)) for f in ("id", "username", "name")),
    *((_v1_line, (f,)) for f in (
        "id_str", "id", "full_text", "created_at", "favorite_count", "user",
        "in_reply_to_status_id_str", "retweeted_status", "extended_tweet")),
    *((_v1_line, ("user", f)) for f in ("id_str", "screen_name", "name", "followers_count")),
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _set(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _host_lines() -> list[dict[str, Any]]:
    host = {**HOST, "public_metrics": {"followers_count": 900}}
    tweets = [_v2(1000 + n, host, text, minute, edit_history_tweet_ids=[str(1000 + n)])
              for n, (text, minute) in enumerate(
                  [("Welcome to #NHSSM", 0), ("Q1 What helps you switch off? #NHSSM", 10)])]
    return [{"data": tweets, "includes": {"users": [host]}, "meta": {"result_count": 2}}]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=JSON)
def test_any_value_in_any_field_is_a_bad_line_or_a_sane_row(
        field: tuple[Any, tuple[Any, ...]], value: Any) -> None:
    make, path = field
    line = orjson.dumps(_set(make(), path, value))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = load_script(write_script(work / "chats", SCRIPT, chat_id="nhssm"))
        file = work / "tweets.jsonl"
        file.write_bytes(b"\n".join([*map(orjson.dumps, _host_lines()), line]) + b"\n")
        archive = Archive(work / "archive.db")
        try:
            report = import_x(archive, file, script)
        finally:
            archive.close()
        assert report.bad_lines in ([], [2])
        with closing(sqlite3.connect(work / "archive.db")) as conn:
            rows = conn.execute("SELECT id, author_id, author_name, author_handle, text, "
                                "created, reactions, reply_to, thread_id FROM messages").fetchall()
        for mid, author_id, name, handle, text, created, reactions, *refs in rows:
            assert all(isinstance(v, str) for v in (mid, author_id, name, text, created))
            assert all(v is None or isinstance(v, str) for v in (handle, *refs))
            assert isinstance(reactions, int) and reactions >= 0
            assert created.endswith("+00:00")
        kept = 2 + (1 - len(report.bad_lines))  # the host's two, and the line unless bad
        assert len(rows) in (kept, kept - 1)  # a retweet (v1 retweeted_status) is left out


def test_a_handle_that_is_a_number_is_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    """The tester's case: a user whose username is 7 (it reached `.lower()`)."""
    script = load_script(write_script(tmp_path / "chats", SCRIPT, chat_id="nhssm"))
    bad = _set(_page_line(), ("includes", "users", 0, "username"), 7)
    listed = _set(_flat_line(), ("author", "name"), ["Ann"])
    file = tmp_path / "tweets.jsonl"
    file.write_bytes(b"\n".join(map(orjson.dumps, [*_host_lines(), bad, listed])) + b"\n")
    archive = Archive(tmp_path / "archive.db")
    try:
        report = import_x(archive, file, script)
    finally:
        archive.close()
    assert report.bad_lines == [2, 3]


def test_a_line_longer_than_the_bound_is_a_bad_line_never_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.platforms.x import importer

    script = load_script(write_script(tmp_path / "chats", SCRIPT, chat_id="nhssm"))
    huge = _set(_flat_line(), ("text",), "A1 " + "long " * 400)
    monkeypatch.setattr(importer, "MAX_LINE", len(orjson.dumps(huge)) - 1)
    parsed: list[Any] = []
    real_loads = orjson.loads
    monkeypatch.setattr(importer.orjson, "loads", lambda b: parsed.append(b) or real_loads(b))
    file = tmp_path / "tweets.jsonl"
    file.write_bytes(b"\n".join(map(orjson.dumps, [*_host_lines(), huge])) + b"\n")
    archive = Archive(tmp_path / "archive.db")
    try:
        report = import_x(archive, file, script)
    finally:
        archive.close()
    assert report.bad_lines == [2]
    assert parsed and not [b for b in parsed if "long long" in str(b)]  # never parsed
