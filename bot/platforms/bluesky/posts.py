"""Bluesky post views (app.bsky.feed.defs#postView) -> neutral Messages.

Shared by the live adapter and the importer so that an imported post is stored
exactly as a collected one.

A post's id is its AT URI (`at://did/app.bsky.feed.post/rkey`), which is what replies name
in `reply.parent` and `reply.root`; the thread id is the root's URI. Everything read from a
payload is type-checked and bounded: a malformed view is skipped, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.platforms.bluesky.client import rkey_of
from bot.platforms.payload import bounded as _str
from bot.platforms.payload import count, depth, length, parse_time
from bot.platforms.scrubbing import Shape, scrub
from bot.records import Author, Message

PLATFORM = "bluesky"
MAX_TEXT = 10_000  # far above Bluesky's 3,000 bytes: a record that big is not a post
MAX_THREAD_NODES = 5_000
# A real post view (embeds of quoted posts included) nests about 15 levels; records are
# open, so anyone can add a field nested hundreds deep. Such a post is skipped, alone.
MAX_VIEW_DEPTH = 64
POST_TYPE = "app.bsky.feed.post"
# Reading a stored payload's author needs no time: any will do where a post lacks one.
_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)


class BadPost(ValueError):
    """A payload that claims to be a post view but is not a usable one."""


def post_url(uri: str, handle: str | None) -> str:
    """The bsky.app web address of a post."""
    did = uri.removeprefix("at://").split("/", 1)[0]
    return f"https://bsky.app/profile/{handle or did}/post/{rkey_of(uri)}"


def _ref_uri(ref: Any) -> str | None:
    if isinstance(ref, Mapping):
        uri = _str(ref.get("uri"), 500)
        if uri and uri.startswith("at://"):
            return uri
    return None


def view_message(view: Mapping[str, Any], raw: Mapping[str, Any], *, me: str = "",
                 fallback_time: datetime | None = None) -> Message:
    """One post view as a Message; raises BadPost when it is not a post."""
    if not isinstance(view, Mapping):
        raise BadPost("not a JSON object")
    uri = _str(view.get("uri"), 500)
    record = view.get("record")
    author = view.get("author")
    if not uri or not uri.startswith("at://") or not isinstance(record, Mapping) or \
            not isinstance(author, Mapping):
        raise BadPost(f"post {uri or '?'} has no uri, record or author")
    if record.get("$type", POST_TYPE) != POST_TYPE:
        raise BadPost(f"{uri} is a {record.get('$type')!r}, not a post")
    if depth(view, MAX_VIEW_DEPTH) > MAX_VIEW_DEPTH:
        raise BadPost(f"{uri} nests deeper than {MAX_VIEW_DEPTH} levels")
    did = _str(author.get("did"), 300) or uri.removeprefix("at://").split("/", 1)[0]
    handle = _str(author.get("handle"), 300)
    name = _str(author.get("displayName"), 640) or handle or did
    text = _str(record.get("text"), MAX_TEXT) or ""
    created = (parse_time(record.get("createdAt")) or parse_time(view.get("indexedAt"))
               or fallback_time)
    if created is None:
        raise BadPost(f"{uri} has no createdAt")
    reply = record.get("reply") if isinstance(record.get("reply"), Mapping) else {}
    parent = _ref_uri(reply.get("parent")) if reply else None
    root = _ref_uri(reply.get("root")) if reply else None
    embed = record.get("embed")
    quoted = isinstance(embed, Mapping) and str(embed.get("$type", "")).startswith(
        "app.bsky.embed.record")
    likes = view.get("likeCount")
    return Message(
        platform=PLATFORM, id=uri,
        # A post view's author is a profileViewBasic: no followersCount, unless a fuller
        # profile view was given (then it is used).
        author=Author(PLATFORM, did, name, handle, is_bot=bool(me) and did == me,
                      followers=count(author.get("followersCount"))),
        text=text, created=created, reply_to=parent, thread_id=root or uri,
        reactions=likes if isinstance(likes, int) and likes >= 0 else 0,
        url=post_url(uri, handle), kind="quote" if quoted else "message",
        media=embed_media(embed), raw=raw)


def embed_media(embed: Any) -> int:
    """Images and videos in a post record's embed (a link card or quoted post is not media)."""
    if not isinstance(embed, Mapping):
        return 0
    kind = str(embed.get("$type", ""))
    if kind == "app.bsky.embed.recordWithMedia":
        inner = embed.get("media")
        # Never deeper than one level: the lexicon nests media once.
        if isinstance(inner, Mapping) and inner.get("$type") != kind:
            return embed_media(inner)
        return 0
    if kind == "app.bsky.embed.images":
        return min(length(embed.get("images")), 4)  # the lexicon allows four
    return 1 if kind == "app.bsky.embed.video" else 0


def cid_of(view: Mapping[str, Any]) -> str | None:
    """A post view's CID, or None when missing or malformed."""
    return _str(view.get("cid"), 200)


def thread_views(thread: Any, limit: int = MAX_THREAD_NODES) -> Iterator[Mapping[str, Any]]:
    """Every post view in a getPostThread tree (the root and all replies), depth-first.

    Without recursion; notFound and blocked nodes are skipped.
    """
    stack = [thread]
    seen = 0
    while stack and seen < limit:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        post = node.get("post")
        if isinstance(post, Mapping):
            seen += 1
            yield post
        replies = node.get("replies")
        if isinstance(replies, list):
            stack.extend(reversed(replies[:limit]))


def feed_views(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Post views in any of the read responses.

    Those are searchPosts/getPosts (`posts`), getAuthorFeed/getTimeline (`feed` of
    {post, reason}; reposts skipped) and getPostThread.
    """
    posts = body.get("posts")
    if isinstance(posts, list):
        yield from (p for p in posts if isinstance(p, Mapping))
    feed = body.get("feed")
    if isinstance(feed, list):
        for item in feed:
            if isinstance(item, Mapping) and isinstance(item.get("post"), Mapping) and \
                    not item.get("reason"):  # a reason (#reasonRepost) is someone's repost
                yield item["post"]
    if "thread" in body:
        yield from thread_views(body["thread"])


def payload_author(raw: Any) -> str | None:
    """The author DID a stored payload names, read by `view_message` itself; None if none.

    Live, imported and CAR posts are all stored as {"post": view, "source": ...}. Erasure
    finds an unfinished import's payloads by it (they have no message row yet).
    """
    view = raw.get("post") if isinstance(raw, Mapping) else None
    if not isinstance(view, Mapping):
        return None
    try:
        return view_message(view, raw, fallback_time=_ANY_TIME).author.id or None
    except ValueError:  # BadPost: not a post view
        return None


# A profile view or a mention facet (did); a post view or embedded record by its author.
SHAPE = Shape(ids=("did",), owner_objects=("author",))


def scrub_payload(raw: dict[str, Any], author_id: str) -> dict[str, Any] | None:
    """Someone else's post payload without `author_id`; None if it holds nothing of theirs.

    Their profile views, the posts of theirs it quotes and their DID (in reply refs' and
    quotes' AT URIs too) go (bot/platforms/scrubbing.py).
    """
    return scrub(raw, author_id, SHAPE)
