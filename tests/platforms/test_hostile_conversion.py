"""Any JSON value in any field a live adapter reads: that post is skipped alone, never a crash.

Each platform's converter (Bluesky post views, Mastodon statuses, an X search page) is fed
its real JSON shape with one field replaced by anything JSON can hold, times that leave
datetime's range when turned to UTC and fields nested past what the archive can write
among them. The converter must answer a Message (or None) or its own refusal, and on an X
page the good tweet beside the hostile one must survive.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.platforms.bluesky.posts import MAX_VIEW_DEPTH, BadPost, view_message
from bot.platforms.mastodon.statuses import BadStatus, status_message
from bot.platforms.payload import depth, parse_time
from bot.platforms.x.tweets import page_messages
from tests.importers.test_x_import_types import _set

# Valid RFC 3339 times whose UTC conversion leaves datetime's range.
OUT_OF_RANGE = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                "0001-01-01T00:30:00+23:59"]


def nested(levels: int) -> dict[str, Any]:
    """{"x": {"x": ...}} `levels` deep."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
    | st.sampled_from(OUT_OF_RANGE) | st.just(nested(300)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _view() -> dict[str, Any]:
    """An app.bsky.feed.defs#postView as searchPosts serves it (a reply with an image)."""
    return {
        "uri": "at://did:plc:ann/app.bsky.feed.post/3kabc", "cid": "bafyreiabc",
        "author": {"did": "did:plc:ann", "handle": "ann.bsky.social", "displayName": "Ann",
                   "labels": []},
        "record": {"$type": "app.bsky.feed.post", "text": "A1 rest #NHSSM",
                   "createdAt": "2026-11-28T20:05:00.000Z", "langs": ["en"],
                   "reply": {"root": {"uri": "at://did:plc:bot/app.bsky.feed.post/3kroot",
                                      "cid": "bafyroot"},
                             "parent": {"uri": "at://did:plc:bot/app.bsky.feed.post/3kq1",
                                        "cid": "bafyq1"}},
                   "embed": {"$type": "app.bsky.embed.images",
                             "images": [{"alt": "", "image": {"$type": "blob"}}]}},
        "replyCount": 0, "repostCount": 0, "likeCount": 2, "quoteCount": 0,
        "indexedAt": "2026-11-28T20:05:01.000Z", "labels": []}


VIEW_FIELDS = [
    *(("record", f) for f in ("text", "createdAt", "reply", "embed", "$type", "extra")),
    *(("author", f) for f in ("did", "handle", "displayName", "followersCount")),
    *((f,) for f in ("uri", "cid", "author", "record", "likeCount", "indexedAt", "extra")),
    ("record", "reply", "parent"), ("record", "reply", "root", "uri"),
    ("record", "embed", "images"),
]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(VIEW_FIELDS), value=JSON)
@example(path=("record", "createdAt"), value=OUT_OF_RANGE[0])
@example(path=("record", "extra"), value=nested(300))
def test_a_bluesky_view_is_a_message_or_a_bad_post(path: tuple[str, ...], value: Any) -> None:
    view = _set(_view(), path, value)
    try:
        message = view_message(view, {"post": view}, fallback_time=datetime.now(UTC))
    except BadPost:
        return
    assert message.created.tzinfo is not None
    assert depth(message.raw, MAX_VIEW_DEPTH + 1) <= MAX_VIEW_DEPTH + 1
    orjson.dumps(message.raw)  # what the archive writes: never too deep to store


def _status() -> dict[str, Any]:
    """A Mastodon Status as the hashtag timeline serves it (a reply, edited once)."""
    return {
        "id": "113000000000000001", "created_at": "2026-11-28T20:05:00.000Z",
        "edited_at": "2026-11-28T20:06:00.000Z", "in_reply_to_id": "113000000000000000",
        "content": "<p>A1 rest <a href=\"https://m.example/tags/nhssm\">#<span>NHSSM</span></a></p>",
        "spoiler_text": "", "url": "https://m.example/@ann/113000000000000001",
        "favourites_count": 1, "reblog": None, "media_attachments": [],
        "mentions": [{"url": "https://m.example/@bob", "acct": "bob"}],
        "account": {"id": "42", "acct": "ann", "username": "ann", "display_name": "Ann",
                    "followers_count": 9}}


STATUS_FIELDS = [
    *((f,) for f in ("id", "created_at", "edited_at", "in_reply_to_id", "content",
                     "spoiler_text", "url", "favourites_count", "reblog",
                     "media_attachments", "mentions", "account")),
    *(("account", f) for f in ("id", "acct", "username", "display_name", "followers_count")),
    ("mentions", 0),
]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(STATUS_FIELDS), value=JSON)
@example(path=("edited_at",), value=OUT_OF_RANGE[1])
@example(path=("created_at",), value=OUT_OF_RANGE[0])
def test_a_mastodon_status_is_a_message_or_a_bad_status(path: tuple[Any, ...],
                                                        value: Any) -> None:
    status = _set(_status(), path, value)
    try:
        message = status_message(status, {"status": status})
    except BadStatus:
        return
    if message is not None:
        assert message.created.tzinfo is not None
        assert message.edited is None or message.edited.tzinfo is not None


GOOD_ID = "1860000000000000001"


def _page() -> dict[str, Any]:
    """One recent-search page: a good tweet and the one whose field is replaced."""
    good = {"id": GOOD_ID, "text": "A1 good #NHSSM", "author_id": "11",
            "created_at": "2026-11-28T20:05:00.000Z", "conversation_id": GOOD_ID,
            "public_metrics": {"like_count": 1}, "edit_history_tweet_ids": [GOOD_ID]}
    odd = {**copy.deepcopy(good), "id": "1860000000000000002", "text": "A1 odd #NHSSM",
           "edit_history_tweet_ids": ["1860000000000000002"],
           "referenced_tweets": [{"type": "replied_to", "id": "1860000000000000000"}],
           "attachments": {"media_keys": ["3_1"]}, "author_id": "12"}
    return {"data": [good, odd],
            "includes": {"users": [{"id": "11", "username": "ann", "name": "Ann"},
                                   {"id": "12", "username": "bo", "name": "Bo",
                                    "public_metrics": {"followers_count": 3}}],
                         "tweets": [{"id": "1860000000000000000", "author_id": "11",
                                     "text": "Q1"}]},
            "meta": {"result_count": 2, "newest_id": "1860000000000000002"}}


TWEET_FIELDS = [
    *(("data", 1, f) for f in ("id", "text", "author_id", "created_at", "conversation_id",
                                "public_metrics", "referenced_tweets", "attachments",
                                "edit_history_tweet_ids", "note_tweet", "entities")),
    ("data", 1, "public_metrics", "like_count"), ("data", 1, "referenced_tweets", 0),
    ("data", 1, "referenced_tweets", 0, "id"), ("data", 1), ("includes", "tweets"),
    ("includes", "users", 1), ("includes", "users", 1, "name"), ("includes", "tweets", 0),
    ("includes",), ("meta",),
]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(TWEET_FIELDS), value=JSON)
@example(path=("data", 1, "referenced_tweets"), value=None)
@example(path=("data", 1, "public_metrics", "like_count"), value=None)
def test_one_hostile_tweet_costs_only_itself(path: tuple[Any, ...], value: Any) -> None:
    messages = page_messages(_set(_page(), path, value), "#NHSSM", me_id="")
    assert GOOD_ID in [m.id for m in messages]
    assert len(messages) <= 2


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_time_out_of_range_in_utc_is_no_time(value: str) -> None:
    assert parse_time(value) is None


def test_depth_counts_without_recursion() -> None:
    assert depth("x", 5) == 0
    assert depth({"a": [1, {"b": 2}]}, 5) == 3
    assert depth(nested(100_000), 64) == 65  # stops counting past the limit
