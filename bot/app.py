"""The running bot as people meet it: the core with the web application on top.

The core runs chats, sessions, platforms and publishing; the web application serves the
public pages, the archive, the moderator console, the JSON API and the web room's socket.

The CLI and the tests drive the bot through this one object. The web application may know
it; the core and the platforms never do.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import Clock
from bot.core import Alert, BotError, ChatRuntime, Core
from bot.script import ChatScript
from bot.settings import Settings
from bot.webapp.server import WebServer

__all__ = ["Alert", "App", "BotError", "ChatRuntime"]


class App(Core):
    """The core plus the web application (`with_web=False`: the core alone)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        scripts: Sequence[ChatScript] | None = None,
        platform_override: Sequence[str] | None = None,
        with_scheduler: bool = True,
        with_web: bool = True,
    ) -> None:
        super().__init__(settings, clock=clock, scripts=scripts,
                         platform_override=platform_override, with_scheduler=with_scheduler)
        self.with_web = with_web
        self.web: WebServer | None = None

    async def _start_front(self) -> None:
        """Serve the web application before the chats start (the web room needs it)."""
        if self.with_web:
            self.web = WebServer(self)
            await self.web.start()

    async def _stop_front(self) -> None:
        """Stop serving before the archive closes."""
        if self.web is not None:
            await self.web.stop()
