"""Serving a fake platform: an aiohttp application on 127.0.0.1, on a free port.

`FakeService` is what every fake server shares: starting and stopping, its address, and
failures injected by the tests (the next request, or the next one to a given endpoint,
answers with an error status instead of being served).
"""

from __future__ import annotations

import abc
from typing import Self

from aiohttp import web


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start `app` on 127.0.0.1; the runner (to clean up) and the port it got."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


class FakeService(abc.ABC):
    """A fake platform's HTTP server. Use as `async with Server() as s` or start()/close()."""

    _runner: web.AppRunner | None = None
    port: int = 0

    def __init__(self) -> None:
        self._injected: list[tuple[int, str | None]] = []  # (status, endpoint or None: any)

    @abc.abstractmethod
    def application(self) -> web.Application:
        """The aiohttp application with the service's routes and middlewares."""

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._runner, self.port = await serve(self.application())

    async def close(self) -> None:
        """Stop listening; safe to call twice."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The fake service's address on 127.0.0.1."""
        return f"http://127.0.0.1:{self.port}"

    def _fail_next(self, status: int, count: int, endpoint: str | None) -> None:
        """The next `count` requests (to `endpoint`, if given) fail with `status`."""
        self._injected.extend((status, endpoint) for _ in range(count))

    def _injected_failure(self, endpoint: str, *, exact: bool = False) -> int | None:
        """The status of the first injected failure for `endpoint` (or a prefix of it)."""
        for i, (status, only) in enumerate(self._injected):
            if only is None or endpoint == only or (not exact and endpoint.startswith(only)):
                del self._injected[i]
                return status
        return None
