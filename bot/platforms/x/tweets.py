"""X API v2 tweets -> neutral Messages: one converter for live collection and the importer.

An imported tweet is stored exactly as the live adapter would have stored it, because both
go through `v2_message`; `page_messages` flattens one search response page (twarc's rule:
each row keeps its own slice of the original page as `raw`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

from bot.platforms.payload import count, dig, length, obj
from bot.platforms.scrubbing import Shape, scrub
from bot.platforms.x.tweet_text import original_id, v2_text
from bot.records import Author, Message

log = logging.getLogger(__name__)

# Everything v2_message reads, asked for explicitly: X returns only id and text otherwise.
TWEET_FIELDS = (
    "created_at author_id conversation_id referenced_tweets public_metrics in_reply_to_user_id "
    "lang entities edit_history_tweet_ids note_tweet attachments"
).split()
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
# public_metrics: the author's followers_count, for the summary's impressions.
USER_FIELDS = ["username", "name", "public_metrics"]
# The largest count stored (likes): SQLite's INTEGER is 64-bit, and no post has 10^12.
MAX_COUNT = 1_000_000_000_000


def parse_time(value: str) -> datetime:
    """X's "2026-01-07T20:05:00.000Z" as an aware datetime.

    Kept here, not in client.py: importing archived tweets must not load tweepy and aiohttp.
    """
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tweet_url(tweet_id: str, handle: str | None) -> str:
    """The tweet's public address."""
    return f"https://x.com/{handle or 'i/web'}/status/{tweet_id}"


def v2_message(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    raw: Mapping[str, Any],
    *,
    me_id: str = "",
) -> Message | None:
    """One API v2 tweet as a neutral Message; None for a retweet.

    A retweet repeats someone else's words, and X counts it on the original. Shared with
    the importer, so an imported tweet is stored exactly as the live adapter stores it.

    Every version of an edited tweet is keyed on the original id; a later version carries
    `edited` (its own created_at). A tweet without `created_at` or `author_id` raises
    ValueError naming it: a time or an author is never invented.
    """
    refs = {str(r.get("type")): str(r.get("id")) for r in tweet.get("referenced_tweets") or ()
            if isinstance(r, Mapping)}
    if "retweeted" in refs:
        return None
    tweet_id = str(tweet["id"])
    author_id = str(tweet.get("author_id") or "")
    if not author_id:
        raise ValueError(f"tweet {tweet_id} has no author_id (ask for expansions=author_id)")
    if not tweet.get("created_at"):
        raise ValueError(f"tweet {tweet_id} has no created_at (ask for tweet.fields=created_at)")
    user = users.get(author_id, {})
    handle = user.get("username")
    name = user.get("name") or handle or author_id
    conversation = tweet.get("conversation_id")
    created = parse_time(str(tweet["created_at"]))
    if created.tzinfo is None:
        raise ValueError(f"tweet {tweet_id} has created_at {tweet['created_at']!r} without "
                         "a time zone")
    key = original_id(tweet)  # a later version is the original, edited
    edited = created if key != tweet_id else None
    return Message(
        platform="x",
        id=key,
        author=Author(
            platform="x",
            id=author_id,
            name=name if type(name) is str else _not_text(tweet_id, "name", name),
            handle=handle if handle is None or type(handle) is str else _not_text(
                tweet_id, "username", handle),
            is_bot=bool(me_id) and author_id == me_id,
            followers=count(dig(user, "public_metrics", "followers_count")),
        ),
        text=v2_text(tweet),
        created=created,
        reply_to=refs.get("replied_to"),
        thread_id=str(conversation) if conversation else None,
        edited=edited,
        # A null count (or no public_metrics) is no likes: never a reason to drop the tweet.
        reactions=like_count(dig(tweet, "public_metrics", "like_count") or 0),
        url=tweet_url(key, handle),
        kind="quote" if "quoted" in refs else "message",
        media=length(dig(tweet, "attachments", "media_keys")),
        raw=raw,
    )


def _not_text(tweet_id: str, field: str, value: Any) -> NoReturn:
    """Refuse a user's name or handle that is not text (it would reach `.lower()`)."""
    raise ValueError(f"tweet {tweet_id}: the author's {field} is {value!r:.40}, not text")


def like_count(value: Any) -> int:
    """A like count as stored: a whole number SQLite holds; ValueError (or TypeError) else."""
    likes = int(value)
    if not 0 <= likes <= MAX_COUNT:
        raise ValueError(f"like count {likes!r:.40} out of range")
    return likes


def version_id(message: Message) -> str:
    """The id of the tweet version a message was made from (its own id unless edited)."""
    data = message.raw.get("data", message.raw)
    return str(data.get("id", message.id)) if isinstance(data, Mapping) else message.id


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The JSON objects in a list (a page part X should send as a list of objects)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _by_id(value: Any) -> dict[str, Mapping[str, Any]]:
    """A page's `includes` objects keyed on their string id (anything else left out)."""
    return {o["id"]: o for o in _objects(value) if isinstance(o.get("id"), str)}


# What a hostile tweet's fields can raise in the converter; each costs only that tweet.
BAD_TWEET = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


def page_messages(body: Mapping[str, Any], query: str, *, me_id: str) -> list[Message]:
    """Every tweet of one v2 search page as a Message (retweets left out).

    Each carries the page's users and referenced tweets it needs, the page's meta and the
    query, as its `raw`. A tweet missing its time or author, or with a field of the wrong
    type (null `referenced_tweets`, say), is logged and left out, never stored with made-up
    values; the rest of the page is kept.
    """
    includes = obj(body.get("includes"))
    users = _by_id(includes.get("users"))
    tweets = _by_id(includes.get("tweets"))
    meta = obj(body.get("meta"))
    out = []
    for tweet in _objects(body.get("data")):
        try:
            message = _tweet_message(tweet, users, tweets, meta, query, me_id)
        except BAD_TWEET as exc:
            log.warning("X: tweet %.40s left out: %.200s", tweet.get("id", "?"), exc)
            continue
        if message is not None:
            out.append(message)
    return out


def _tweet_message(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]],
                   tweets: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any],
                   query: str, me_id: str) -> Message | None:
    """One tweet of a page, its raw the slice of the page it needs (see page_messages)."""
    refs = [str(r.get("id")) for r in _objects(tweet.get("referenced_tweets"))]
    referenced = [tweets[i] for i in refs if i in tweets]
    author_id = str(tweet.get("author_id", ""))
    wanted = {author_id} | {str(t.get("author_id")) for t in referenced}
    raw = {
        "data": dict(tweet),
        "includes": {
            "users": [u for uid, u in users.items() if uid in wanted],
            "tweets": referenced,
        },
        "page_meta": dict(meta),
        "query": query,
    }
    return v2_message(tweet, users, raw, me_id=me_id)


def payload_author(raw: Any) -> str | None:
    """The author id a stored tweet payload names, as the converters read it; None if none.

    Erasure finds an unfinished import's payloads by it (they have no message row yet).
    Every shape this bot stores: a v2 page slice or live result ({"data": tweet, ...}), a
    flat twarc-csv tweet (author_id, or author.id), a v1.1 tweet (user.id_str, user.id), and
    an edited tweet's merged payload (the newest version's shape, plus "versions").
    """
    if not isinstance(raw, Mapping):
        return None
    tweet = raw["data"] if isinstance(raw.get("data"), Mapping) else raw
    found = (tweet.get("author_id") or dig(tweet, "author", "id")
             or dig(tweet, "user", "id_str") or dig(tweet, "user", "id"))
    return str(found) if isinstance(found, str | int) and not isinstance(found, bool) else None


# A v2 user or mention (id), a v1.1 user (id_str); a v2 tweet's author_id, a v1.1 tweet's
# user, a twarc-csv tweet's author.
SHAPE = Shape(ids=("id", "id_str"), owner_refs=("author_id",), owner_objects=("user", "author"))


def scrub_payload(raw: dict[str, Any], author_id: str) -> dict[str, Any] | None:
    """Someone else's tweet payload without `author_id`; None if it holds nothing of theirs.

    A reply or quote keeps the tweet it answers in `includes.tweets` and its author in
    `includes.users`; `in_reply_to_user_id` and `entities.mentions` name them too.
    """
    return scrub(raw, author_id, SHAPE)
