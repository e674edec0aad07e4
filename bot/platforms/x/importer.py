"""Archived tweets (JSON lines) -> the archive, attributed exactly as if hosted live.

Three kinds of line are recognised, each line on its own, so concatenated files mix freely:

- a twarc2 response page: `{"data": [...], "includes": {"users": [...], "tweets": [...]},
  "meta": {...}, "__twarc": {...}}` (what `twarc2 search` writes);
- a flattened twarc2 tweet (`twarc2 flatten`): one v2 tweet with `author` expanded inline;
- a v1.1 tweet (older archives, `twarc1`, the 2013 chats): `id_str`, `created_at` as
  "Wed Jan 23 20:05:00 +0000 2013", `full_text`/`text`, `user{...}`.

The file is read one line at a time (memory stays flat for any size), and a line that
cannot be read is counted with its number without stopping the import. Retweets are left
out, as live. v2 tweets go through the live adapter's own converter (`tweets.v2_message`), so an
imported tweet is stored exactly as collection would have stored it; the original JSON is
kept in `Message.raw`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bot.archive import Archive
from bot.importers.common import ImportReport, Parsed, host_names_for, import_stream
from bot.importers.parts import Part, Split, part_lines
from bot.platforms.payload import count, dig, length
from bot.platforms.x.tweet_text import edit_history, v1_text
from bot.platforms.x.tweets import like_count, tweet_url, v2_message, version_id
from bot.records import Author, Message
from bot.script import ChatScript

if TYPE_CHECKING:
    from bot.moderation.policy import Policy

log = logging.getLogger(__name__)

PLATFORM = "x"
# Bytes in one line. A twarc2 page holds at most 500 tweets with their users and referenced
# tweets: a few MB. Parsing a line holds it several times over (a 50 MB one peaked at
# 422 MB), so a longer line is a bad line, counted and never parsed.
MAX_LINE = 16 << 20
_V1_TIME = "%a %b %d %H:%M:%S %z %Y"


class _BadRecord(ValueError):
    """A line (or a tweet in it) that is JSON but not a usable tweet."""


class NotTweets(ValueError):
    """The file holds something other than tweets (users, lists, counts): refused whole."""


# What twarc2 writes besides tweets, told apart by the fields of their records.
_NOT_TWEETS = (
    ("tweet_count", "tweet counts (twarc2 counts)"),
    ("username", "user profiles (twarc2 users, followers or following)"),
    ("member_count", "lists (twarc2 lists)"),
    ("owner_id", "lists (twarc2 lists)"),
)


def _what_else(record: Mapping[str, Any]) -> str | None:
    """What a record holds when it is not a tweet page or tweet, else None."""
    items = record.get("data")
    if isinstance(items, dict):
        items = [items]
    sample = items[0] if isinstance(items, list) and items else record
    if not isinstance(sample, Mapping) or "text" in sample or "full_text" in sample:
        return None
    for key, what in _NOT_TWEETS:
        if key in sample:
            return what
    if "total_tweet_count" in (record.get("meta") or {}):
        return "tweet counts (twarc2 counts)"
    return None


def import_x(
    archive: Archive,
    path: str | Path,
    script: ChatScript,
    progress: Callable[[int], None] | None = None,
    *,
    host_accounts: Iterable[str] = (),
    policy: Policy | None = None,
) -> ImportReport:
    """Import a JSONL file of tweets for `script`'s chat.

    `progress(n)` is called with the number of bytes read since the last call (for a
    progress bar sized to the file). `host_accounts` adds handles or ids whose tweets are
    the host's (the settings' `[x] host_account`); the script's own are always included.
    Messages and names are screened under `policy` (None: the built-in one; see
    `import_stream`).
    """
    names = host_names_for(script, PLATFORM, host_accounts)
    size = Path(path).stat().st_size
    return import_stream(
        archive, script, lambda advance: parse_file(path, advance, size=size),
        platform=PLATFORM, host_names=names, progress=progress, input_bytes=size,
        split=Split(lambda advance, part: parse_file(path, advance, size=size, part=part),
                    merge_edits, size),
        policy=policy,
    )


def parse_file(
    path: str | Path, progress: Callable[[int], None] | None = None, *,
    size: int | None = None, part: Part | None = None,
) -> Iterator[Parsed]:
    """Every tweet in the file at `path` (see parse_lines).

    With `size`, only the lines starting in its first `size` bytes, as a reading in parts
    takes them (what is appended meanwhile waits for the next import). With `part` too,
    only that part's lines (bot/importers/parts), an edited tweet's versions put in
    `part.set_aside` for `merge_edits`.
    """
    with open(path, "rb") as f:
        if size is None:
            yield from parse_lines(f, progress)
        else:
            yield from parse_lines(part_lines(f, part or Part(0, 1), size), progress,
                                   set_aside=part.set_aside if part is not None else None)


def parse_lines(
    lines: Iterable[bytes], progress: Callable[[int], None] | None = None, *,
    set_aside: list[Parsed] | None = None,
) -> Iterator[Parsed]:
    """Every tweet of the lines; the later versions of an edited tweet come last.

    They come as one edit of the original (which may come before them, after them or not
    at all). With `set_aside` (a reader of part of a file, bot/importers/parts) the
    versions are put there instead, for `merge_edits` once every part is read.

    Raises NotTweets on the first record that is users, lists or counts (the whole file
    is refused: it is the wrong file, not a file with a few bad lines).
    """
    versions: list[Parsed] = [] if set_aside is None else set_aside
    for item in _parse_lines(lines, progress):
        message = item.message
        if message is not None and _edited(message.raw.get("data", message.raw)):
            versions.append(item)  # few: kept until the end
            yield Parsed(item.line, later=True)  # its line is read now
        else:
            yield item
    if set_aside is None:
        yield from merge_edits(versions)


def merge_edits(versions: Iterable[Parsed]) -> Iterator[Parsed]:
    """One edit per edited tweet, from its versions as read (in file order)."""
    edits: dict[str, list[Parsed]] = {}
    for item in versions:
        assert item.message is not None  # noqa: S101 - parse_lines keeps only messages
        edits.setdefault(item.message.id, []).append(item)
    for same in edits.values():
        yield _merge_versions(same)


def _edited(tweet: Mapping[str, Any]) -> bool:
    """Whether a tweet is one version of several (most tweets' history is just themselves)."""
    ids = tweet.get("edit_history_tweet_ids")
    return isinstance(ids, list) and len(ids) > 1 and len(edit_history(tweet)) > 1


def _merge_versions(versions: list[Parsed]) -> Parsed:
    """One message for every version of an edited tweet.

    The newest text, marked edited, created when first posted, and every version's
    payload kept in `raw["versions"]`.
    """
    by_version = {version_id(v.message): v for v in versions if v.message is not None}
    ordered = [by_version[k] for k in sorted(by_version, key=int)]
    messages = [v.message for v in ordered if v.message is not None]
    last = messages[-1]
    raw = dict(last.raw)
    raw["versions"] = [m.raw for m in messages[:-1]]
    # `edited` is the newest version's time (v2_message sets it on every later version).
    merged = replace(last, created=min(m.created for m in messages), raw=raw)
    return Parsed(ordered[-1].line, merged, edit=True)


def _parse_lines(
    lines: Iterable[bytes], progress: Callable[[int], None] | None
) -> Iterator[Parsed]:
    pending = 0
    for number, line in enumerate(lines, 1):
        if progress is not None:
            pending += len(line)
            if pending >= 1 << 20:  # report every megabyte, not every line
                progress(pending)
                pending = 0
        if len(line) > MAX_LINE:
            yield Parsed(number, error=f"longer than {MAX_LINE:,} bytes: not a tweet or a "
                                       "twarc2 page")
            continue
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield Parsed(number, error=f"not JSON ({e})")
            continue
        if isinstance(record, dict) and (other := _what_else(record)) is not None:
            raise NotTweets(f"line {number} holds {other}, not tweets; import a file of tweets "
                            "(twarc2 search or timeline output, or v1.1 tweets)")
        try:
            yield from _records(number, record)
        except (_BadRecord, KeyError, TypeError, ValueError, AttributeError) as e:
            yield Parsed(number, error=str(e) or type(e).__name__)
    if progress is not None and pending:
        progress(pending)


def _records(number: int, record: Any) -> Iterator[Parsed]:
    if not isinstance(record, dict):
        raise _BadRecord("not a JSON object")
    if "data" in record or ("meta" in record and "id" not in record):
        yield from _page(number, record)
    elif "id_str" in record or "user" in record:
        yield _one(number, _v1_message(record))
    elif "id" in record and ("author" in record or "author_id" in record):
        yield _one(number, _flat_message(record))
    else:
        raise _BadRecord("neither a twarc2 page, a v2 tweet nor a v1.1 tweet")


def _one(number: int, message: Message | None) -> Parsed:
    return Parsed(number, message) if message is not None else Parsed(number, skipped=True)


def _page(number: int, page: Mapping[str, Any]) -> Iterator[Parsed]:
    data = page.get("data") or []
    if isinstance(data, dict):  # a single-tweet lookup
        data = [data]
    if not data:
        yield Parsed(number, skipped=True)  # an empty result page is not an error
        return
    includes = page.get("includes") or {}
    users = {str(u["id"]): u for u in includes.get("users") or ()}
    position = {uid: i for i, uid in enumerate(users)}  # page order, for each tweet's raw
    tweets = {str(t["id"]): t for t in includes.get("tweets") or ()}
    meta = page.get("meta") or {}
    twarc = page.get("__twarc")
    for tweet in data:
        try:
            refs = [str(r["id"]) for r in tweet.get("referenced_tweets") or ()]
            referenced = [tweets[i] for i in refs if i in tweets]
            author = str(tweet.get("author_id"))
            if referenced:
                wanted = {author}
                wanted.update(str(t.get("author_id")) for t in referenced)
                # The page's order, found without walking every user for every tweet.
                kept = [users[uid] for uid in sorted(wanted & position.keys(),
                                                     key=position.__getitem__)]
            else:  # most tweets: only their author
                kept = [users[author]] if author in users else []
            raw: dict[str, Any] = {
                "data": tweet,
                "includes": {"users": kept, "tweets": referenced},
                "page_meta": meta,
            }
            if twarc is not None:
                raw["__twarc"] = twarc
            yield _one(number, v2_message(tweet, users, raw))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            yield Parsed(number, error=f"tweet {tweet.get('id', '?')}: {e}")


def _flat_message(tweet: Mapping[str, Any]) -> Message | None:
    author = tweet.get("author") or {}
    author_id = str(tweet.get("author_id") or author.get("id") or "")
    users = {author_id: author} if author else {}
    return v2_message(tweet, users, tweet)


def _v1_message(tweet: Mapping[str, Any]) -> Message | None:
    if tweet.get("retweeted_status") is not None:
        return None  # a retweet repeats someone else's words
    tweet_id = str(tweet.get("id_str") or tweet["id"])
    user = tweet.get("user") or {}
    author_id = str(user.get("id_str") or user.get("id") or "")
    if not author_id:
        raise _BadRecord(f"tweet {tweet_id}: no user")
    handle = user.get("screen_name")
    name = user.get("name") or handle or author_id
    if type(name) is not str or not (handle is None or type(handle) is str):
        raise _BadRecord(f"tweet {tweet_id}: the user's name or screen_name is not text")
    text = v1_text(tweet)
    try:
        created = datetime.strptime(str(tweet["created_at"]), _V1_TIME).astimezone(UTC)
    except ValueError:
        raise _BadRecord(f"tweet {tweet_id}: created_at {tweet['created_at']!r}") from None
    reply_to = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    quoted = tweet.get("quoted_status") is not None or tweet.get("is_quote_status") is True
    return Message(
        platform=PLATFORM,
        id=tweet_id,
        author=Author(PLATFORM, author_id, name, handle,
                      followers=count(user.get("followers_count"))),
        text=text,
        created=created,
        reply_to=str(reply_to) if reply_to else None,
        reactions=like_count(tweet.get("favorite_count") or 0),
        url=tweet_url(tweet_id, handle),
        kind="quote" if quoted else "message",
        # v1.1 lists every photo of a tweet in extended_entities (entities holds the first).
        media=length(dig(tweet, "extended_entities", "media") or dig(tweet, "entities", "media")),
        raw=tweet,
    )
