"""The fake X server's reading of search queries and its shaping of v2 responses.

Kept apart from the server so each stays small; the shapes follow X's API v2 (tweet.fields,
expansions into `includes`, problem bodies for errors).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

TWEET_FIELDS = (
    "created_at",
    "author_id",
    "conversation_id",
    "referenced_tweets",
    "public_metrics",
    "in_reply_to_user_id",
    "lang",
    "entities",
    "note_tweet",
)
_URL = re.compile(r"https?://\S+")


def as_posted(text: str) -> dict[str, Any]:
    """A text as X stores it: escaped, links as t.co, a long post whole in `note_tweet`.

    &, < and > are escaped, each link becomes a t.co link with its entity, and a post over
    280 characters is cut, its whole text in `note_tweet`.
    """
    urls: list[dict[str, Any]] = []

    def shorten(m: re.Match[str]) -> str:
        short = f"https://t.co/{zlib.crc32(m.group().encode()):010d}"
        urls.append({"start": m.start(), "end": m.start() + len(short), "url": short,
                     "expanded_url": m.group(), "display_url": m.group().split("//", 1)[1]})
        return short

    body = _URL.sub(shorten, text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out: dict[str, Any] = {"text": body}
    if urls:
        out["entities"] = {"urls": urls}
    if len(body) > 280:
        out["text"] = body[:279] + "…"
        out["note_tweet"] = {"text": body, **({"entities": out["entities"]} if urls else {})}
    return out


# Every tweet.fields name X knows; an unknown one is a 400, like X.
KNOWN_TWEET_FIELDS = frozenset(
    TWEET_FIELDS
    + ("attachments", "context_annotations", "edit_controls", "entities", "geo", "id",
       "non_public_metrics", "organic_metrics", "possibly_sensitive", "promoted_metrics",
       "reply_settings", "source", "text", "withheld", "edit_history_tweet_ids", "note_tweet")
)


@dataclass
class FakeUser:
    """An account on the fake server."""

    id: str
    username: str
    name: str
    followers: int = 0

    def as_json(self, fields: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The user object X returns in `includes.users` (public_metrics when asked for)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "username": self.username}
        if "public_metrics" in fields:
            out["public_metrics"] = {"followers_count": self.followers, "following_count": 0,
                                     "tweet_count": 0, "listed_count": 0}
        return out


@dataclass
class Query:
    """A parsed search query: all terms must hold."""

    terms: list[tuple[bool, str, str]] = field(default_factory=list)  # (negated, op, value)


def iso(dt: datetime) -> str:
    """A time as X writes it: UTC, milliseconds, Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> dict[str, Any]:
    """An RFC 7807 problem body, X's error shape."""
    return {"title": title, "detail": detail, "type": type_, "status": status}


def parse_query(query: str) -> Query:
    """The operators the adapter sends; anything else is refused as X would (ValueError)."""
    if not query.strip():
        raise ValueError("The `query` query parameter can not be empty")
    parsed = Query()
    for raw in query.split():
        negated = raw.startswith("-")
        term = raw[1:] if negated else raw
        if term.startswith("#"):
            parsed.terms.append((negated, "hashtag", term[1:].lower()))
        elif ":" in term:
            op, _, value = term.partition(":")
            if op not in ("conversation_id", "from", "is") or not value:
                raise ValueError(f"There were errors processing your request: {raw!r}")
            if op == "is" and value not in ("retweet", "reply", "quote"):
                raise ValueError(f"Unknown operator is:{value}")
            parsed.terms.append((negated, op, value.lower()))
        elif term.upper() in ("OR", "AND") or "(" in term or ")" in term:
            raise ValueError(f"The fake X server does not support {raw!r} in queries")
        else:
            parsed.terms.append((negated, "word", term.lower()))
    return parsed

def matches(parsed: Query, tweet: dict[str, Any], users: Mapping[str, FakeUser]) -> bool:
    """Whether a stored tweet satisfies every term of the query."""
    kinds = {r["type"] for r in tweet.get("referenced_tweets", [])}
    text = (tweet.get("note_tweet") or tweet)["text"].lower()  # X searches a long post whole
    for negated, op, value in parsed.terms:
        if op == "hashtag":
            hit = re.search(rf"(?<![\w#])#{re.escape(value)}(?!\w)", text) is not None
        elif op == "conversation_id":
            hit = tweet["conversation_id"] == value
        elif op == "from":
            hit = users[tweet["author_id"]].username.lower() == value.lstrip("@")
        elif op == "is":
            kind = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}[value]
            hit = kind in kinds
        else:
            hit = re.search(rf"\b{re.escape(value)}\b", text) is not None
        if hit == negated:
            return False
    return True

def shape(tweet: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """A stored tweet with only the requested tweet.fields, as X returns it."""
    out = {"id": tweet["id"], "text": tweet["text"]}
    out["edit_history_tweet_ids"] = list(tweet["edit_history_tweet_ids"])
    for name in fields:
        if name not in TWEET_FIELDS:
            continue
        if name in tweet:
            value = tweet[name]
            out[name] = dict(value) if name == "public_metrics" else value
    return out

def includes(
    page: list[dict[str, Any]], fields: list[str], expansions: set[str],
    by_id: Mapping[str, dict[str, Any]], users: Mapping[str, FakeUser],
    user_fields: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The `includes` object of a page: the expansions asked for, each user once."""
    found: dict[str, Any] = {}
    user_ids: list[str] = []
    referenced: list[dict[str, Any]] = []
    if "referenced_tweets.id" in expansions:
        seen: set[str] = set()
        for t in page:
            for ref in t.get("referenced_tweets", []):
                if ref["id"] in by_id and ref["id"] not in seen:
                    seen.add(ref["id"])
                    referenced.append(by_id[ref["id"]])
        if referenced:
            found["tweets"] = [shape(t, fields) for t in referenced]
    if "author_id" in expansions:
        user_ids += [t["author_id"] for t in page]
    if "referenced_tweets.id.author_id" in expansions:
        user_ids += [t["author_id"] for t in referenced]
    if "in_reply_to_user_id" in expansions:
        user_ids += [t["in_reply_to_user_id"] for t in page if "in_reply_to_user_id" in t]
    if user_ids:
        unique = list(dict.fromkeys(user_ids))
        found["users"] = [users[u].as_json(user_fields) for u in unique]
    return found

def invalid(parameter: str, message: str, value: str | None = None) -> web.Response:
    """X's 400 for a bad parameter (naming the offending value, when given)."""
    body = {
        "errors": [{"parameters": {parameter: [value] if value else []}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    return web.json_response(body, status=400)

def not_found(tid: str) -> dict[str, Any]:
    """X's 'Could not find tweet' error entry."""
    return {
        "errors": [
            {
                "value": tid,
                "detail": f"Could not find tweet with id: [{tid}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "id",
                "resource_id": tid,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
