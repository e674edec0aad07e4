"""Recorded Bluesky API output (JSON lines) -> the archive, attributed as if hosted live.

Each line is one response: `app.bsky.feed.searchPosts` or `getPosts` (`posts`),
`getAuthorFeed`/`getTimeline` (`feed`; reposts skipped), `getPostThread` (`thread`, every
reply in the tree), or a single post view. Posts go through the live adapter's own
converter, so an imported post is stored exactly as a collected one; overlapping
responses repeat posts, which the archive's (platform, id) key makes harmless.

A repository export (`com.atproto.sync.getRepo`, a `.car` file) is read too: it holds the
account's own posts only (no one else's replies, and the DID but no handle), so it
recovers the host's side of a chat; pass the DID as the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.archive import Archive
from bot.importers.common import ImportReport, Parsed, host_names_for, import_stream
from bot.importers.jsonl import parse_json_file
from bot.platforms.bluesky.car import BadCar, is_car, post_views
from bot.platforms.bluesky.posts import PLATFORM, BadPost, feed_views, view_message
from bot.script import ChatScript

if TYPE_CHECKING:
    from bot.moderation.policy import Policy


def records(number: int, value: Any) -> Iterator[Parsed]:
    """The parsed posts of one JSONL record (a post view or a read response)."""
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    if "uri" in value and "record" in value:  # a single post view
        views: Iterable[Any] = [value]
    elif any(k in value for k in ("posts", "feed", "thread")):
        views = list(feed_views(value))
    else:
        raise ValueError("neither a searchPosts, getPostThread, getAuthorFeed response nor "
                         "a post view")
    if isinstance(value.get("feed"), list) and any(
            isinstance(i, dict) and i.get("reason") for i in value["feed"]):
        yield Parsed(number, skipped=True)  # reposts in an author feed
    if not views:
        yield Parsed(number, skipped=True)
    for view in views:
        try:
            yield Parsed(number, view_message(view, {"post": view, "source": "import"}))
        except BadPost as e:
            yield Parsed(number, error=str(e))


def car_records(path: Path) -> Iterator[Parsed]:
    """Each post of a repository export, numbered in tree order; a broken file is line 1."""
    try:
        for number, view in enumerate(post_views(path), 1):
            try:
                yield Parsed(number, view_message(view, {"post": view, "source": "car"}))
            except BadPost as e:
                yield Parsed(number, error=str(e))
    except BadCar as e:
        yield Parsed(1, error=str(e))


def import_bluesky(archive: Archive, path: str | Path, script: ChatScript,
                   progress: Callable[[int], None] | None = None, *,
                   host_accounts: Iterable[str] = (),
                   policy: Policy | None = None) -> ImportReport:
    """Import a JSONL file of Bluesky responses for `script`'s chat.

    `host_accounts` names the handles or DIDs whose posts are the host's (the script's
    own are included). Messages and names are screened under `policy` (None: the
    built-in one).
    """
    path = Path(path)
    names = host_names_for(script, PLATFORM, host_accounts)

    def parse(advance: Callable[[int], None]) -> Iterator[Parsed]:
        return car_records(path) if is_car(path) else parse_json_file(path, records, advance)

    return import_stream(archive, script, parse, platform=PLATFORM, host_names=names,
                         progress=progress, input_bytes=path.stat().st_size, policy=policy)
