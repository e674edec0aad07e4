"""After `forget`, nobody else's payload still holds the forgotten person.

An X reply's payload keeps the tweet it quotes and that tweet's author (includes.tweets,
includes.users); a Discord export message its mentions and reaction users; a Mastodon
status its mentions and in_reply_to_account_id; a Bluesky post the post it quotes (author
and text). `forget` erased the person's own rows and left all of these. Here Zed posts,
Ann answers on each platform (payloads built by the platform's own converter from
fixtures in the platforms' JSON shapes), Zed is forgotten through the real CLI, and no byte
of Zed's words, name, handle or id is left in the archive's files while Ann's message and
payload survive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.archive import Archive, ItemRow
from bot.platforms.bluesky.posts import view_message
from bot.platforms.discord.export import parse_export
from bot.platforms.mastodon.statuses import status_message
from bot.platforms.x.tweets import page_messages
from bot.records import Event, Message
from tests.test_cli import tweetchat

T0 = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
SECRET = "xylophonicmarker"
NAME, HANDLE = "Zebedee Quokkaton", "zquokka"
ANN_TEXT = "A1 so true, a long walk with the dog helps"
ZED_TEXT = f"A1 my {SECRET} story from ward 7"
DID_ZED = "did:plc:zq7quokkatonzq7quokkaton"
DID_ANN = "did:plc:ann4walkwiththedog4walkwi"


def at(seconds: int) -> str:
    """An ISO time `seconds` into the chat."""
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def x_messages() -> tuple[str, list[Message]]:
    """A v2 search page: Zed's tweet and Ann's reply quoting it."""
    zed = {"id": "1599000000000000777", "username": HANDLE, "name": NAME,
           "public_metrics": {"followers_count": 41}}
    ann = {"id": "1599000000000000222", "username": "annwalks", "name": "Ann",
           "public_metrics": {"followers_count": 9}}
    zed_tweet = {"id": "1880000000000000001", "text": ZED_TEXT, "author_id": zed["id"],
                 "created_at": at(5), "conversation_id": "1880000000000000001",
                 "edit_history_tweet_ids": ["1880000000000000001"]}
    ann_tweet = {"id": "1880000000000000002", "text": ANN_TEXT, "author_id": ann["id"],
                 "created_at": at(9), "conversation_id": "1880000000000000001",
                 "in_reply_to_user_id": zed["id"],
                 "referenced_tweets": [{"type": "replied_to", "id": zed_tweet["id"]},
                                       {"type": "quoted", "id": zed_tweet["id"]}],
                 "entities": {"mentions": [{"start": 0, "end": 8, "username": HANDLE,
                                            "id": zed["id"]}]},
                 "edit_history_tweet_ids": ["1880000000000000002"]}
    body = {"data": [zed_tweet, ann_tweet],
            "includes": {"users": [zed, ann], "tweets": [zed_tweet]},
            "meta": {"result_count": 2}}
    return zed["id"], page_messages(body, "#NHSSM", me_id="")


def discord_messages() -> tuple[str, list[Message]]:
    """A DiscordChatExporter export: Zed's message, Ann's reply mentioning Zed."""
    zed = {"id": "861000000000000777", "name": HANDLE, "discriminator": "0000",
           "nickname": NAME, "color": None, "isBot": False, "roles": [],
           "avatarUrl": f"https://cdn.discordapp.com/avatars/861000000000000777/{HANDLE}.png"}
    ann = {"id": "861000000000000222", "name": "annwalks", "discriminator": "0000",
           "nickname": "Ann", "isBot": False, "roles": []}
    doc = {"guild": {"id": "700", "name": "NHS SM"},
           "channel": {"id": "701", "type": "GuildTextChat", "name": "chat"},
           "messages": [
               {"id": "1300000000000000001", "type": "Default", "timestamp": at(5),
                "content": ZED_TEXT, "author": zed, "attachments": [], "embeds": [],
                "reactions": [], "mentions": []},
               {"id": "1300000000000000002", "type": "Reply", "timestamp": at(9),
                "content": ANN_TEXT, "author": ann,
                "attachments": [], "embeds": [],
                "reactions": [{"emoji": {"id": None, "name": "👍"}, "count": 1,
                               "users": [zed]}],
                "mentions": [zed],
                "reference": {"messageId": "1300000000000000001", "channelId": "701",
                              "guildId": "700"}}]}
    return zed["id"], parse_export(doc)


def mastodon_messages() -> tuple[str, list[Message]]:
    """Two API statuses: Zed's, and Ann's reply that mentions Zed."""
    zed = {"id": "109000000000000777", "username": HANDLE, "acct": f"{HANDLE}@nhs.social",
           "display_name": NAME, "url": f"https://nhs.social/@{HANDLE}",
           "note": "<p>ward 7</p>", "followers_count": 3}
    ann = {"id": "109000000000000222", "username": "annwalks", "acct": "annwalks",
           "display_name": "Ann", "url": "https://mastodon.example/@annwalks"}
    zed_status = {"id": "111000000000000001", "created_at": at(5), "account": zed,
                  "content": f"<p>{ZED_TEXT}</p>", "in_reply_to_id": None,
                  "in_reply_to_account_id": None, "mentions": [], "reblog": None,
                  "url": f"https://nhs.social/@{HANDLE}/111000000000000001"}
    ann_status = {"id": "111000000000000002", "created_at": at(9), "account": ann,
                  "content": f"<p>{ANN_TEXT}</p>", "in_reply_to_id": zed_status["id"],
                  "in_reply_to_account_id": zed["id"], "reblog": None,
                  "mentions": [{"id": zed["id"], "username": HANDLE, "url": zed["url"],
                                "acct": zed["acct"]}],
                  "quote": {"state": "accepted", "quoted_status": zed_status},
                  "url": "https://mastodon.example/@annwalks/111000000000000002"}
    out = [status_message(s, {"status": s, "source": "import"}) for s in
           (zed_status, ann_status)]
    return zed["id"], [m for m in out if m is not None]


def bluesky_messages() -> tuple[str, list[Message]]:
    """Two post views: Zed's, and Ann's reply quoting it (app.bsky.embed.record#view)."""
    zed = {"did": DID_ZED, "handle": f"{HANDLE}.bsky.social", "displayName": NAME,
           "avatar": f"https://cdn.bsky.app/img/avatar/{DID_ZED}/a@jpeg"}
    ann = {"did": DID_ANN, "handle": "annwalks.bsky.social", "displayName": "Ann"}
    zed_uri = f"at://{DID_ZED}/app.bsky.feed.post/3kzedpost0001"
    zed_record = {"$type": "app.bsky.feed.post", "text": ZED_TEXT, "createdAt": at(5)}
    zed_view = {"uri": zed_uri, "cid": "bafyzed", "author": zed, "record": zed_record,
                "indexedAt": at(5), "likeCount": 0}
    ref = {"uri": zed_uri, "cid": "bafyzed"}
    ann_view = {
        "uri": f"at://{DID_ANN}/app.bsky.feed.post/3kannpost0001", "cid": "bafyann",
        "author": ann, "indexedAt": at(9),
        "record": {"$type": "app.bsky.feed.post", "text": ANN_TEXT, "createdAt": at(9),
                   "reply": {"root": ref, "parent": ref},
                   "embed": {"$type": "app.bsky.embed.record", "record": ref}},
        "embed": {"$type": "app.bsky.embed.record#view", "record": {
            "$type": "app.bsky.embed.record#viewRecord", "uri": zed_uri, "cid": "bafyzed",
            "author": zed, "value": zed_record, "indexedAt": at(5)}}}
    return DID_ZED, [view_message(v, {"post": v, "source": "import"})
                     for v in (zed_view, ann_view)]


PLATFORMS: dict[str, Callable[[], tuple[str, list[Message]]]] = {
    "x": x_messages, "discord": discord_messages, "mastodon": mastodon_messages,
    "bluesky": bluesky_messages,
}

# Zed as the platform's handle names them (named by it, as a person asking would).
HANDLES = {"x": HANDLE, "discord": HANDLE, "mastodon": f"{HANDLE}@nhs.social",
           "bluesky": f"{HANDLE}.bsky.social"}


def build(path: Path, platform: str) -> tuple[str, str]:
    """The archive with Zed's message and Ann's answer; returns (Zed's id, Ann's id)."""
    zed_id, messages = PLATFORMS[platform]()
    assert len(messages) == 2
    archive = Archive(path)
    try:
        session = archive.create_session(
            chat_id="nhssm", title="NHS SM", hashtag="#NHSSM", timezone="Europe/London",
            scheduled_start=T0, duration_minutes=60, platforms=[platform],
            items=[ItemRow(key="q1", number=1, text="Q1 Anything?", due_offset=0)])
        archive.record_events([Event("created", platform, m.id, m.created, m)
                               for m in messages], session_id=session, chat_id="nhssm")
    finally:
        archive.close()
    return zed_id, messages[1].id


def residue(path: Path, words: tuple[str, ...]) -> dict[str, list[str]]:
    """Which of the archive's files (db, -wal, -shm) still hold any of `words`."""
    files = {file.name: file.read_bytes() for file in path.parent.glob(path.name + "*")}
    return {name: hits for name, data in files.items()
            if (hits := [w for w in words if w.encode() in data])}


def ann_row(path: Path, platform: str, ann_id: str) -> tuple[str, dict[str, Any]]:
    """Ann's stored text and payload."""
    db = sqlite3.connect(path)
    try:
        text, raw = db.execute(
            "select m.text, r.raw from messages m join message_raw r "
            "on r.platform = m.platform and r.id = m.id where m.platform = ? and m.id = ?",
            [platform, ann_id]).fetchone()
    finally:
        db.close()
    return text, orjson.loads(raw)


@pytest.mark.parametrize("remove", [False, True], ids=["anonymise", "remove"])
@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_forget_takes_them_out_of_everyone_elses_payloads(tmp_path: Path, platform: str,
                                                          remove: bool) -> None:
    path = tmp_path / "archive.db"
    zed_id, ann_id = build(path, platform)
    # On Bluesky a post's key is its AT URI, which holds the DID: the keys of Zed's kept
    # (anonymised) or removed posts, and Ann's reply_to, still name it (README).
    words = (SECRET, "Quokkaton", HANDLE) + (() if platform == "bluesky" else (zed_id,))
    _, before = ann_row(path, platform, ann_id)
    assert SECRET in orjson.dumps(before).decode() or HANDLE in orjson.dumps(before).decode()
    assert zed_id in orjson.dumps(before).decode()  # the defect's state: Ann's payload has Zed

    result = tweetchat(tmp_path, "forget", f"{platform}:{HANDLES[platform]}",
                       *(["--remove"] if remove else []), TWEETCHAT_ARCHIVE=str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "taken out of 1 other people's payloads" in result.stdout
    assert residue(path, words) == {}
    text, after = ann_row(path, platform, ann_id)
    assert text.startswith(ANN_TEXT)  # Ann's message stays, and her payload's shape
    assert set(after) == set(before)
    assert ANN_TEXT in orjson.dumps(after).decode()
    assert zed_id not in orjson.dumps(after).decode()
