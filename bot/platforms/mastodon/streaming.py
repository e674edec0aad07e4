"""The Mastodon hashtag stream: server-sent events over aiohttp, bounded where they enter.

`GET /api/v1/streaming/hashtag?tag=...` (a user token with read:statuses since Mastodon
4.2) answers `text/event-stream`: `event: <name>` and `data: <payload>` lines, a blank line
ending each event, a repeated `data:` line meaning a newline, and comment lines (`:thump`)
as heartbeats. The events the bot reads are `update` (a Status), `status.update` (an
edited Status, since 3.5) and `delete` (the bare id of the deleted status, not JSON-quoted).

Mastodon.py has streaming listeners, but they read with `requests` in a thread of their own
and call back into it; the bot reads the same wire format here on the event loop, so
stopping is a cancel and waiting happens on the adapter's clock. The streaming server may
live elsewhere than the API (`configuration.urls.streaming` in /api/v2/instance, a wss://
address whose https:// twin serves the same paths over SSE).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.clock import Clock
from bot.platforms.base import PlatformError
from bot.platforms.live_feed import LiveFeed

log = logging.getLogger(__name__)

MAX_LINE = 1 << 20  # one line of the stream (a Status is a few kilobytes)
MAX_EVENT = 2 << 20  # one event, all its data lines together
EVENTS = frozenset({"update", "status.update", "delete"})


class StreamRefused(PlatformError):
    """The instance does not stream to this token (404, 401, 403, or no event stream)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class StreamBroken(PlatformError):
    """The stream broke the protocol's bounds or dropped: reconnect later, poll meanwhile."""


@dataclass(frozen=True)
class StreamEvent:
    """One complete event from the stream: its name and its data lines joined by newlines."""

    name: str
    data: str


class SSEParser:
    """Bytes in any chunking -> complete events; comments counted as heartbeats.

    Only `event` and `data` fields are kept (`id` and `retry` mean nothing to the bot). A
    line or an event over its bound raises StreamBroken: the stream is dropped, not grown.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._name = ""
        self._data: list[str] = []
        self._size = 0
        self.heartbeats = 0

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events completed by `chunk`."""
        self._buffer += chunk
        events: list[StreamEvent] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            raw = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            event = self._line(raw.removesuffix(b"\r").decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        if len(self._buffer) > MAX_LINE:
            raise StreamBroken(f"a stream line over {MAX_LINE} bytes")
        return events

    def _line(self, line: str) -> StreamEvent | None:
        if line == "":
            event = StreamEvent(self._name or "message", "\n".join(self._data)) \
                if self._data or self._name else None
            self._name, self._data, self._size = "", [], 0
            return event
        if line.startswith(":"):
            self.heartbeats += 1
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._name = value[:100]
        elif field == "data":
            self._size += len(value) + 1
            if self._size > MAX_EVENT:
                raise StreamBroken(f"a stream event over {MAX_EVENT} bytes")
            self._data.append(value)
        return None


def streaming_base(api_base: str, advertised: str) -> str:
    """Where to stream from: the instance's advertised streaming URL as http(s), else the API."""
    parts = urlsplit(advertised.strip()) if advertised else None
    if parts is None or parts.scheme not in ("ws", "wss", "http", "https") or not parts.netloc:
        return api_base.rstrip("/")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class HashtagStream(LiveFeed[StreamEvent]):
    """One open hashtag stream, read by a task of its own into a bounded queue.

    `last_seen` (on the adapter's clock) moves with every byte, heartbeats included, so the
    adapter can tell a stalled stream from a quiet hashtag. `ended` is set when the stream
    stops for any reason; `error` then says why.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.parser = SSEParser()
        self.last_seen = clock.monotonic()

    async def open(self, base: str, token: str, tag: str, *, timeout: float) -> None:
        """Connect; StreamRefused when the instance will not stream, StreamBroken when down."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout))
        url = f"{base}/api/v1/streaming/hashtag"
        try:
            response = await asyncio.wait_for(self._session.get(
                url, params={"tag": tag}, headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "text/event-stream"}), timeout)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            await self.close()
            raise StreamBroken(f"cannot reach the streaming server ({type(e).__name__})") from e
        if response.status in (401, 403, 404, 405, 410, 501) or (
                response.status == 200 and "text/event-stream" not in
                response.headers.get("Content-Type", "")):
            response.release()
            await self.close()
            raise StreamRefused(f"the instance does not stream #{tag} to this token "
                                f"(HTTP {response.status})")
        if response.status != 200:
            response.release()
            await self.close()
            raise StreamBroken(f"the streaming server answered HTTP {response.status}")
        self.last_seen = self.clock.monotonic()
        self._task = asyncio.create_task(self._read(response))

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        try:
            async for chunk in response.content.iter_any():
                self.last_seen = self.clock.monotonic()
                for event in self.parser.feed(chunk):
                    if event.name in EVENTS:
                        await self.queue.put(event)
            self.error = "the streaming server closed the stream"
        except StreamBroken as e:
            self.error = str(e)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            self.error = f"the stream dropped ({type(e).__name__})"
        finally:
            response.release()
            self.ended.set()
