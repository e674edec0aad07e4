"""Follower counts and media, read where each platform's payload enters (issue 14).

Fixtures are written for this project in each platform's real shapes: X API v2 pages
(includes.users with public_metrics, attachments.media_keys), X v1.1 (user.followers_count,
extended_entities.media), twarc's flattened lines, Mastodon statuses (account.followers_count,
media_attachments) and outbox notes, Bluesky post views (record.embed per the
app.bsky.embed.* lexicons), DiscordChatExporter's JSON (attachments). Hostile values give
None or 0, never an exception.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.bluesky.posts import embed_media, view_message
from bot.platforms.discord.export import parse_export
from bot.platforms.mastodon.importer import note_message
from bot.platforms.mastodon.statuses import status_message
from bot.platforms.payload import count, dig, length
from bot.platforms.x.importer import parse_lines
from bot.platforms.x.tweets import USER_FIELDS, v2_message

AT = "2026-01-07T20:06:00.000Z"


def _tweet(tid: str, author: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "text": "A1 our ward's board #NHSSM", "author_id": author,
            "created_at": AT, "conversation_id": tid, "edit_history_tweet_ids": [tid],
            "public_metrics": {"like_count": 1, "retweet_count": 0, "reply_count": 0,
                               "quote_count": 0}, **extra}


def _user(uid: str, followers: Any = None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": uid, "username": f"nurse{uid}", "name": f"Nurse {uid}"}
    if followers is not None:
        user["public_metrics"] = {"followers_count": followers, "following_count": 12,
                                  "tweet_count": 400, "listed_count": 3}
    return user


def test_x_asks_for_follower_counts() -> None:
    assert "public_metrics" in USER_FIELDS


def test_x_v2_reads_followers_from_the_author_expansion_and_counts_media_keys() -> None:
    tweet = _tweet("11", "7", attachments={"media_keys": ["3_1", "3_2"]})
    msg = v2_message(tweet, {"7": _user("7", 1840)}, {"data": tweet})
    assert msg is not None and msg.author.followers == 1840 and msg.media == 2
    bare = v2_message(_tweet("12", "8"), {"8": _user("8")}, {})
    assert bare is not None and bare.author.followers is None and bare.media == 0


def test_x_file_lines_v2_page_flattened_and_v1() -> None:
    page = {"data": [_tweet("21", "7", attachments={"media_keys": ["3_9"]})],
            "includes": {"users": [_user("7", 52)]}, "meta": {"result_count": 1}}
    flat = _tweet("22", "8")
    flat["author"] = _user("8", 9001)
    v1 = {"id_str": "23", "full_text": "A2 photo of our huddle #NHSSM",
          "created_at": "Wed Jan 07 20:10:00 +0000 2026",
          "user": {"id_str": "9", "screen_name": "mw_jo", "name": "Jo", "followers_count": 310},
          "entities": {"media": [{"id_str": "1"}]},
          "extended_entities": {"media": [{"id_str": "1"}, {"id_str": "2"}, {"id_str": "3"}]}}
    lines = [orjson.dumps(x) for x in (page, flat, v1)]
    got = {p.message.id: p.message for p in parse_lines(lines) if p.message is not None}
    assert (got["21"].author.followers, got["21"].media) == (52, 1)
    assert (got["22"].author.followers, got["22"].media) == (9001, 0)
    assert (got["23"].author.followers, got["23"].media) == (310, 3)


def test_mastodon_status_and_outbox_note() -> None:
    status = {"id": "1093", "created_at": "2026-01-07T20:06:00.000Z",
              "content": "<p>A1 our rota app <a href=\"https://x.example\">link</a></p>",
              "account": {"id": "44", "username": "sam", "acct": "sam@nhs.social",
                          "display_name": "Sam", "followers_count": 275},
              "media_attachments": [{"id": "9", "type": "image", "url": "https://m/9.png"}],
              "favourites_count": 2, "url": "https://nhs.social/@sam/1093"}
    msg = status_message(status, status)
    assert msg is not None and msg.author.followers == 275 and msg.media == 1
    note = {"type": "Create", "actor": "https://nhs.social/users/sam",
            "object": {"type": "Note", "id": "https://nhs.social/users/sam/statuses/1094",
                       "published": "2026-01-07T20:07:00Z", "content": "<p>A2 hello</p>",
                       "attributedTo": "https://nhs.social/users/sam",
                       "attachment": [{"type": "Document", "mediaType": "image/png"}]}}
    from_archive = note_message(note)
    assert from_archive is not None and from_archive.media == 1
    assert from_archive.author.followers is None  # an account archive knows no followers


def _view(embed: Any = None, **author: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": "A1 hello",
                              "createdAt": "2026-01-07T20:06:00.000Z"}
    if embed is not None:
        record["embed"] = embed
    return {"uri": "at://did:plc:abc/app.bsky.feed.post/3k1", "cid": "bafy",
            "author": {"did": "did:plc:abc", "handle": "ali.bsky.social", **author},
            "record": record, "indexedAt": "2026-01-07T20:06:01.000Z"}


def test_bluesky_embeds_count_images_and_video_not_link_cards() -> None:
    images = {"$type": "app.bsky.embed.images",
              "images": [{"alt": "ward", "image": {"$type": "blob"}}] * 3}
    video = {"$type": "app.bsky.embed.video", "video": {"$type": "blob"}}
    card = {"$type": "app.bsky.embed.external", "external": {"uri": "https://nhs.uk"}}
    quote = {"$type": "app.bsky.embed.record", "record": {"uri": "at://x", "cid": "c"}}
    quote_with_photo = {"$type": "app.bsky.embed.recordWithMedia", "record": quote,
                        "media": {**images, "images": images["images"][:1]}}
    assert [embed_media(e) for e in (images, video, card, quote, quote_with_photo)] == \
        [3, 1, 0, 0, 1]
    basic = view_message(_view(images), {})
    assert basic.media == 3 and basic.author.followers is None  # profileViewBasic
    detailed = view_message(_view(None, followersCount=88), {})
    assert detailed.author.followers == 88 and detailed.media == 0


def test_discord_export_counts_uploads_not_link_previews() -> None:
    def message(mid: str, attachments: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": mid, "type": "Default", "timestamp": "2026-01-07T20:06:00+00:00",
                "timestampEdited": None, "isPinned": False, "content": "A1 see this",
                "author": {"id": "3", "name": "ben", "nickname": "Ben", "isBot": False},
                "attachments": attachments, "reactions": [], "mentions": [],
                "embeds": [{"title": "NHS", "url": "https://nhs.uk", "images": []}]}
    upload = {"id": "5", "url": "https://cdn.example/a.png", "fileName": "a.png",
              "fileSizeBytes": 1024}
    doc = {"guild": {"id": "900", "name": "NHS"}, "channel": {"id": "100", "name": "chat"},
           "messages": [message("1", [upload, upload]), message("2", [])]}
    first, second = parse_export(doc)
    assert (first.media, second.media) == (2, 0)
    assert first.author.followers is None  # Discord reports none


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=5)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=20))
def test_hostile_values_give_none_or_zero(value: Any) -> None:
    n = count(value)
    assert n is None or (type(n) is int and 0 <= n <= 10_000_000_000)
    assert 0 <= length(value) <= 100
    assert 0 <= embed_media(value) <= 4
    dig(value, "public_metrics", "followers_count")  # never raises
    tweet = _tweet("31", "7", attachments=value)
    msg = v2_message(tweet, {"7": {"id": "7", "username": "a", "public_metrics": value}}, {})
    assert msg is not None and msg.media >= 0


def test_counts_refuse_what_is_not_a_count() -> None:
    assert [count(v) for v in (12, 0, -1, True, "12", 1.5, 10**11, None)] == \
        [12, 0, None, None, None, None, None, None]
    assert length(["a"] * 500) == 100 and length("abc") == 0
