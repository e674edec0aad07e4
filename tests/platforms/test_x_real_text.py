"""X as real payloads arrive: escaping, t.co links, edits and long posts, live and on import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.archive import Archive
from bot.platforms.x.adapter import XPlatform
from bot.platforms.x.importer import NotTweets, import_x, parse_lines
from bot.platforms.x.tweet_text import unescape, v1_text, v2_text
from bot.platforms.x.tweets import EXPANSIONS, TWEET_FIELDS, v2_message
from bot.script import ChatScript, load_script
from bot.testing.fake_x import FakeXServer
from tests.conftest import write_script
from tests.importers.test_x_import import SCRIPT
from tests.platforms.test_x_platform import make_platform

T0 = "2026-01-07T20:05:00.000Z"
USERS = {"7": {"id": "7", "username": "jo", "name": "Jo"}}


def tweet(tid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "text": text, "author_id": "7", "created_at": T0,
            "edit_history_tweet_ids": [tid], **extra}


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(("raw", "shown"), [
    ("A1 rotas &amp; leave", "A1 rotas & leave"),
    ("A1 &lt;3 this &gt; that", "A1 <3 this > that"),
    ("A1 I typed &amp;lt; literally", "A1 I typed &lt; literally"),  # unescaped once
    ("A1 no entities here", "A1 no entities here"),
])
def test_text_is_unescaped_exactly_once(raw: str, shown: str) -> None:
    assert v2_text(tweet("1", raw)) == shown
    assert v1_text({"full_text": raw}) == shown
    assert unescape(unescape(raw)) != shown or "&amp;lt;" not in raw


def test_links_are_expanded_from_entities_and_raw_keeps_t_co() -> None:
    t = tweet("1", "A1 guidance https://t.co/abc123 &amp; more https://t.co/zzz999",
              entities={"urls": [
                  {"start": 15, "end": 38, "url": "https://t.co/abc123",
                   "expanded_url": "https://www.nhsemployers.org/social-media",
                   "display_url": "nhsemployers.org/social-media"},
                  {"start": 50, "end": 73, "url": "https://t.co/zzz999",
                   "expanded_url": "https://x.org/long", "unwound_url": "https://nhs.uk/final"}]})
    m = v2_message(t, USERS, t)
    assert m is not None
    assert m.text == ("A1 guidance https://www.nhsemployers.org/social-media & more "
                      "https://nhs.uk/final")
    assert "t.co" not in m.text and "https://t.co/abc123" in m.raw["text"]


def test_long_posts_come_whole_from_note_tweet_and_v1_full_text() -> None:
    whole = "A1 " + "word " * 80 + "end"
    t = tweet("1", whole[:279] + "…", note_tweet={"text": whole})
    assert v2_text(t) == whole
    v1_truncated = {"text": whole[:139] + "…", "truncated": True,
                    "extended_tweet": {"full_text": whole}}
    assert v1_text(v1_truncated) == whole
    assert v1_text({"text": "short", "full_text": whole}) == whole


@pytest.mark.parametrize("missing", ["created_at", "author_id"])
def test_a_tweet_missing_its_time_or_author_is_refused_not_invented(missing: str) -> None:
    t = tweet("1", "A1 hi")
    del t[missing]
    with pytest.raises(ValueError, match=f"tweet 1 has no {missing}"):
        v2_message(t, USERS, t)


def test_every_field_read_is_requested_live() -> None:
    for field in ("entities", "created_at", "author_id", "edit_history_tweet_ids",
                  "note_tweet", "referenced_tweets", "conversation_id"):
        assert field in TWEET_FIELDS
    assert "author_id" in EXPANSIONS


# --------------------------------------------------------------------------- live


async def test_live_tweets_arrive_unescaped_expanded_and_edits_merge(
    server: FakeXServer, clock: Any, tmp_path: Path
) -> None:
    platform: XPlatform = make_platform(server, clock)
    await platform.start()
    first = server.add_tweet("jo", "A1 rotas & leave <3 https://www.nhs.uk/guide #NHSSM")
    long = server.add_tweet("kim", "A2 " + "detail " * 50 + "#NHSSM")
    found = await platform.backfill({})
    edit = server.add_tweet("jo", "A1 rotas & annual leave https://www.nhs.uk/guide #NHSSM",
                            edit_of=first)
    again = await platform.backfill(found.cursor)
    await platform.stop()
    by_id = {e.message_id: e for e in found.events}
    m = by_id[first].message
    assert m is not None and m.text == "A1 rotas & leave <3 https://www.nhs.uk/guide #NHSSM"
    assert "https://t.co/" in m.raw["data"]["text"] and "&amp;" in m.raw["data"]["text"]
    assert by_id[long].message is not None and by_id[long].message.text.endswith("#NHSSM")
    (edited,) = again.events
    assert (edited.kind, edited.message_id) == ("edited", first)
    assert edited.message is not None and edited.message.edited is not None
    assert edited.message.raw["data"]["id"] == edit
    archive = Archive(tmp_path / "archive.db")
    archive.record_events([*found.events, *again.events], chat_id="nhssm")
    rows = archive.db.execute("select id, text, edited from messages where author_handle = 'jo'"
                              ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        (first, "A1 rotas & annual leave https://www.nhs.uk/guide #NHSSM")]
    assert rows[0][2] is not None
    history = archive.db.execute("select old_text from message_edits where id = ?", [first]
                                 ).fetchall()
    assert [h[0] for h in history] == ["A1 rotas & leave <3 https://www.nhs.uk/guide #NHSSM"]
    archive.close()
    # Every collecting search (not start()'s probe for search access) asks for the fields.
    asked = [set(r.query["tweet.fields"].split(",")) for r in server.searches()
             if "tweet.fields" in r.query]
    assert len(asked) >= 2 and all({"entities", "edit_history_tweet_ids", "note_tweet"} <= f
                         for f in asked)


# --------------------------------------------------------------------------- import


def lines(*records: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(r) for r in records]


@pytest.mark.parametrize("newest_first", [True, False])
def test_an_edited_tweet_imports_as_one_message_with_its_history(
    tmp_path: Path, newest_first: bool
) -> None:
    v1 = tweet("100", "A1 teh answer")
    v2 = tweet("105", "A1 the answer", created_at="2026-01-07T20:07:00.000Z",
               edit_history_tweet_ids=["100", "105"])
    data = [v2, v1] if newest_first else [v1, v2]
    page = {"data": data, "includes": {"users": list(USERS.values())}, "meta": {}}
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(lines(page)) + b"\n")
    archive = Archive(tmp_path / "a.db")
    import_x(archive, path, script_in(tmp_path))
    m = archive.message("x", "100")
    assert archive.message("x", "105") is None  # one message per edited tweet
    assert m is not None and m.text == "A1 the answer"
    assert m.created == datetime(2026, 1, 7, 20, 5, tzinfo=UTC)
    assert m.edited == datetime(2026, 1, 7, 20, 7, tzinfo=UTC)
    history = archive.db.execute("select old_text from message_edits where id = '100'").fetchall()
    assert [h[0] for h in history] == ["A1 teh answer"]
    archive.close()


def script_in(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats", SCRIPT, chat_id="nhssm"))


@pytest.mark.parametrize(("record", "what"), [
    ({"data": [{"id": "9", "username": "jo", "name": "Jo", "created_at": T0}]}, "user profiles"),
    ({"data": [{"id": "9", "name": "NHS", "owner_id": "1", "member_count": 3,
                "created_at": T0}], "meta": {"result_count": 1}}, "lists"),
    ({"data": [{"end": T0, "start": T0, "tweet_count": 12}],
      "meta": {"total_tweet_count": 12}}, "tweet counts"),
])
def test_files_of_users_lists_or_counts_are_refused_saying_what_they_hold(
    record: dict[str, Any], what: str
) -> None:
    with pytest.raises(NotTweets, match=f"line 1 holds {what}"):
        list(parse_lines(lines(record)))


def test_import_reports_tweets_missing_fields_as_bad_lines(tmp_path: Path) -> None:
    from bot.script import load_script
    from tests.conftest import write_script
    from tests.importers.test_x_import import SCRIPT

    script = load_script(write_script(tmp_path / "chats", SCRIPT, chat_id="nhssm"))
    ok = tweet("1", "A1 fine")
    no_time = {k: v for k, v in tweet("2", "A1 when?").items() if k != "created_at"}
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(lines(ok, no_time)) + b"\n")
    archive = Archive(tmp_path / "a.db")
    report = import_x(archive, path, script)
    assert report.bad_lines == [2] and report.messages == 1
    ids = [r[0] for r in archive.db.execute("select id from messages").fetchall()]
    assert ids == ["1"]
    archive.close()
