"""The fake Mastodon instance's streaming server: real server-sent events on the same port.

`GET /api/v1/streaming/health` answers `OK`; `GET /api/v1/streaming/hashtag?tag=...` (and
`/hashtag/local`) answers `text/event-stream` as Mastodon's streaming server does: a
`:)` comment on connecting, `:thump` heartbeats, and `event: <name>` / `data: <payload>`
pairs ending in a blank line, where `update` and `status.update` carry a Status as JSON and
`delete` the bare status id. Controls for tests: `refuse` (the instance does not stream:
404, as with the streaming server off), `drop_all()` (every open stream ends), and
`sent` (each event as written, for asserting on the wire format).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from aiohttp import web


class StreamHub:
    """The open hashtag streams and what is published to them."""

    def __init__(self, *, heartbeat_seconds: float = 15.0) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.refuse = False
        self.sent: list[tuple[str, str]] = []  # (event name, data) as written
        self.connections = 0
        self._streams: list[tuple[str, bool, asyncio.Queue[bytes | None]]] = []

    def routes(self, router: web.UrlDispatcher) -> None:
        """Add the streaming paths to the fake instance's router."""
        router.add_get("/api/v1/streaming/health", self._health)
        router.add_get("/api/v1/streaming/hashtag", self._hashtag)
        router.add_get("/api/v1/streaming/hashtag/local", self._hashtag_local)

    @property
    def open_streams(self) -> int:
        """How many hashtag streams are connected now."""
        return len(self._streams)

    def publish(self, name: str, status: dict[str, Any]) -> None:
        """Send `update` or `status.update` of a public status to the streams of its tags."""
        if status.get("visibility") != "public" or status.get("reblog"):
            return
        tags = {t["name"] for t in status.get("tags", [])}
        local = status["account"]["acct"].count("@") == 0
        data = orjson.dumps(status).decode()
        for tag, local_only, queue in self._streams:
            if tag in tags and (local or not local_only):
                self._put(queue, name, data)

    def publish_delete(self, status_id: str) -> None:
        """Tell every stream that a status is gone (Mastodon sends the bare id)."""
        for _, _, queue in self._streams:
            self._put(queue, "delete", status_id)

    def send_raw(self, raw: bytes) -> None:
        """Write `raw` to every open stream as it is (hostile or broken frames, for tests)."""
        for _, _, queue in self._streams:
            queue.put_nowait(raw)

    def drop_all(self) -> None:
        """End every open stream, as a restarting streaming server does."""
        for _, _, queue in self._streams:
            queue.put_nowait(None)

    def _put(self, queue: asyncio.Queue[bytes | None], name: str, data: str) -> None:
        self.sent.append((name, data))
        queue.put_nowait(f"event: {name}\ndata: {data}\n\n".encode())

    async def _health(self, request: web.Request) -> web.Response:
        if self.refuse:
            raise web.HTTPNotFound()
        return web.Response(text="OK")

    async def _hashtag_local(self, request: web.Request) -> web.StreamResponse:
        return await self._hashtag(request, local_only=True)

    async def _hashtag(self, request: web.Request, local_only: bool = False
                       ) -> web.StreamResponse:
        if self.refuse:
            return web.json_response({"error": "This method requires an authenticated user"},
                                     status=404)
        tag = request.query.get("tag", "").lower().lstrip("#")
        if not tag:
            return web.json_response({"error": "No tag specified"}, status=400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-store"})
        await response.prepare(request)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        entry = (tag, local_only, queue)
        self._streams.append(entry)
        self.connections += 1
        try:
            await response.write(b":)\n")
            while True:
                try:
                    chunk = await asyncio.wait_for(queue.get(), self.heartbeat_seconds)
                except TimeoutError:
                    chunk = b":thump\n"
                if chunk is None:
                    break
                await response.write(chunk)
        except ConnectionResetError:
            pass  # the client went away
        finally:
            self._streams.remove(entry)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response
