"""Bluesky's Jetstream: the network's post commits as JSON over a WebSocket, bounded and sieved.

`wss://<host>/subscribe?wantedCollections=app.bsky.feed.post[&cursor=<time_us>]` sends one
JSON object per text frame. The bot reads `kind: "commit"` frames of `app.bsky.feed.post`:

    {"did": "did:plc:...", "time_us": 1725911162329308, "kind": "commit",
     "commit": {"rev": "...", "operation": "create", "collection": "app.bsky.feed.post",
                "rkey": "3l3qo2vuowo2b", "record": {"text": "...", ...}, "cid": "bafy..."}}

`operation` is create, update or delete (a delete has no record); `identity`, `account` and
`heartbeat` frames are skipped. Jetstream carries every post on the network, so each is
sieved here: only posts that tag the chat's hashtag or reply into a thread the bot follows
are kept (the adapter then reads them whole with getPosts, author and all). A frame over
1 MB, or anything that is not such a commit, never reaches the adapter.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from bot.clock import Clock
from bot.platforms.base import PlatformError
from bot.platforms.live_feed import LiveFeed

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
MAX_FRAME = 1 << 20
_RKEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")
OPERATIONS = frozenset({"create", "update", "delete"})


class JetstreamDown(PlatformError):
    """The Jetstream connection could not open or dropped: poll meanwhile, try again later."""


@dataclass(frozen=True)
class Commit:
    """One post commit from Jetstream, checked: what happened to which post, and when."""

    operation: str
    uri: str
    time_us: int
    record: Mapping[str, Any] | None


def commit_of(frame: Any) -> Commit | None:
    """A Jetstream frame as a post commit, or None (another kind or collection, or malformed)."""
    if not isinstance(frame, dict) or frame.get("kind") != "commit":
        return None
    did, time_us, commit = frame.get("did"), frame.get("time_us"), frame.get("commit")
    if not isinstance(did, str) or not _DID.fullmatch(did) or not isinstance(commit, dict):
        return None
    if not isinstance(time_us, int) or isinstance(time_us, bool) or not 0 <= time_us < 1 << 62:
        return None
    rkey, operation = commit.get("rkey"), commit.get("operation")
    if commit.get("collection") != POST or operation not in OPERATIONS or \
            not isinstance(rkey, str) or not _RKEY.fullmatch(rkey):
        return None
    record = commit.get("record")
    return Commit(str(operation), f"at://{did}/{POST}/{rkey}", time_us,
                  record if isinstance(record, dict) else None)


def tags_of(record: Mapping[str, Any]) -> set[str]:
    """The tags a post record carries (its tag facets and any #word in its text), folded."""
    found: set[str] = set()
    facets = record.get("facets")
    for facet in facets[:100] if isinstance(facets, list) else []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features[:20] if isinstance(features, list) else []:
            tag = feature.get("tag") if isinstance(feature, dict) else None
            if isinstance(tag, str):
                found.add(tag[:640].casefold())
    text = record.get("text")
    if isinstance(text, str):
        found |= {t.casefold() for t in re.findall(r"(?<!\w)#(\w{1,640})", text[:10_000])}
    return found


def replied_to(record: Mapping[str, Any]) -> set[str]:
    """The uris a reply names as its root and parent (empty for a top-level post)."""
    reply = record.get("reply")
    if not isinstance(reply, dict):
        return set()
    refs = (reply.get("root"), reply.get("parent"))
    return {r["uri"] for r in refs if isinstance(r, dict) and isinstance(r.get("uri"), str)}


class JetstreamReader(LiveFeed[Commit]):
    """One Jetstream connection, read by a task of its own into a bounded queue of commits.

    `ended` is set when the connection stops for any reason; `error` then says why.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.skipped = 0  # frames that were not post commits (or not JSON)

    async def open(self, url: str, cursor_us: int | None, *, timeout: float) -> None:
        """Connect; JetstreamDown when the service cannot be reached."""
        params = {"wantedCollections": POST}
        if cursor_us is not None:
            params["cursor"] = str(cursor_us)
        self._session = aiohttp.ClientSession()
        try:
            ws = await asyncio.wait_for(self._session.ws_connect(
                url, params=params, max_msg_size=MAX_FRAME, heartbeat=30.0), timeout)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            await self.close()
            raise JetstreamDown(f"cannot reach Jetstream ({type(e).__name__})") from e
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    if message.type == aiohttp.WSMsgType.ERROR:
                        self.error = f"Jetstream broke the connection ({ws.exception()})"
                        break
                    continue
                try:
                    commit = commit_of(orjson.loads(message.data))
                except orjson.JSONDecodeError:
                    commit = None
                if commit is None:
                    self.skipped += 1
                    continue
                await self.queue.put(commit)
            self.error = self.error or f"Jetstream closed the connection ({ws.close_code})"
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            self.error = f"the Jetstream connection dropped ({type(e).__name__})"
        finally:
            await ws.close()
            self.ended.set()
