"""The fake network's Jetstream: commits of the fake PDS's records as JSON over a WebSocket.

`GET /subscribe?wantedCollections=...&cursor=<time_us>` (a WebSocket, no auth, as the
public instances) sends one JSON text frame per event, in Jetstream's shapes: `commit`
frames (`did`, `time_us`, `commit: {rev, operation, collection, rkey, record, cid}`; a
delete has no record or cid), and `identity` frames, which subscribers always get. A cursor
replays what was committed from that time on before the live tail. Controls for tests:
`drop_all()` ends every connection, `send_raw()` writes a frame as it is, `refuse` answers
the upgrade with 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any

import orjson
from aiohttp import WSMsgType, web


class JetstreamHub:
    """What was committed, and the connections it goes out on."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []  # every frame, for replay from a cursor
        self.refuse = False
        self.connections = 0
        self.cursors: list[str | None] = []  # the cursor each connection asked for
        self._sockets: list[tuple[set[str], asyncio.Queue[bytes | None]]] = []
        self._rev = itertools.count(1)

    def routes(self, router: web.UrlDispatcher) -> None:
        """Add /subscribe to the fake service's router."""
        router.add_get("/subscribe", self._subscribe)

    @property
    def open_connections(self) -> int:
        """How many subscribers are connected now."""
        return len(self._sockets)

    def commit(self, did: str, operation: str, collection: str, rkey: str,
               record: dict[str, Any] | None = None, cid: str | None = None) -> None:
        """Publish a commit as Jetstream would, to every subscriber that wants its collection."""
        commit: dict[str, Any] = {"rev": f"3l{next(self._rev):011d}", "operation": operation,
                                  "collection": collection, "rkey": rkey}
        if record is not None:
            commit.update(record=record, cid=cid)
        self._publish({"did": did, "time_us": self._now_us(), "kind": "commit",
                       "commit": commit})

    def identity(self, did: str, handle: str) -> None:
        """An identity event (a handle change): every subscriber gets these."""
        now = self._now_us()
        self._publish({"did": did, "time_us": now, "kind": "identity",
                       "identity": {"did": did, "handle": handle, "seq": now,
                                    "time": "2026-01-01T00:00:00.000Z"}})

    def send_raw(self, frame: bytes) -> None:
        """Write `frame` to every connection as it is (hostile frames, for tests)."""
        for _, queue in self._sockets:
            queue.put_nowait(frame)

    def drop_all(self) -> None:
        """End every connection, as a restarting Jetstream does."""
        for _, queue in self._sockets:
            queue.put_nowait(None)

    def _now_us(self) -> int:
        last = self.log[-1]["time_us"] if self.log else 0
        return max(time.time_ns() // 1000, last + 1)  # strictly increasing, as a cursor needs

    def _publish(self, frame: dict[str, Any]) -> None:
        self.log.append(frame)
        for wanted, queue in self._sockets:
            if self._wants(wanted, frame):
                queue.put_nowait(orjson.dumps(frame))

    @staticmethod
    def _wants(wanted: set[str], frame: dict[str, Any]) -> bool:
        if frame["kind"] != "commit" or not wanted:
            return True
        collection = frame["commit"]["collection"]
        return collection in wanted or any(
            w.endswith(".*") and collection.startswith(w[:-1]) for w in wanted)

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            return web.Response(status=503, text="Jetstream is restarting")
        wanted = set(request.query.getall("wantedCollections", []))
        cursor = request.query.get("cursor")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        entry = (wanted, queue)
        self.connections += 1
        self.cursors.append(cursor)
        if cursor is not None and cursor.isdigit():
            for frame in self.log:
                if frame["time_us"] >= int(cursor) and self._wants(wanted, frame):
                    queue.put_nowait(orjson.dumps(frame))
        self._sockets.append(entry)
        reader = asyncio.create_task(self._drain(ws, queue))
        try:
            while (data := await queue.get()) is not None:
                await ws.send_str(data.decode())
        except ConnectionResetError:
            pass  # the subscriber went away
        finally:
            self._sockets.remove(entry)
            reader.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    @staticmethod
    async def _drain(ws: web.WebSocketResponse, queue: asyncio.Queue[bytes | None]) -> None:
        """Read what the subscriber sends (pings, a close) so the connection stays healthy."""
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        queue.put_nowait(None)
