"""The bot's HTTP server (aiohttp): the web room, its pages, and the control API.

Binds 127.0.0.1:8080 by default. Opening other interfaces exposes the room to the network;
moderator routes are still guarded by the token, but put TLS in front (see README).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.webapp.api import setup_api

if TYPE_CHECKING:
    from bot.core import Core
    from bot.platforms.web.service import RoomService

log = logging.getLogger(__name__)
# The logger aiohttp's request handlers log through (AppRunner's `logger`): a request its
# parser refused is told in one line there (see RefusedInOneLine).
http_log = logging.getLogger("bot.webapp.http")
# The parser's reason, up to where it quotes the request ("Invalid header value char:
# b'Authorization: Bearer ...'"): what the client sent may hold a token, never logged.
_REASON = re.compile(r"[^:'\"]{1,100}")


class RefusedInOneLine(logging.Filter):
    """aiohttp's "Error handling request" for a request its parser refused, as one line.

    The parser answers a control character in a header, a bad request line or an
    over-long header with 400 itself, then logged it at ERROR with its whole traceback:
    anyone could fill the log with them. The client's mistake is one INFO line (aiohttp's
    own DEBUG for a first line that is not HTTP stays DEBUG). A crash in a handler (any
    other exception) keeps its ERROR and traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a parser's refusal in place; let every record through."""
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        said = _REASON.match(" ".join(str(error.message).split()))
        reason = said.group().strip() if said else "unreadable"
        record.msg = "refused a malformed HTTP request from %s: %s %s"
        # ascii(): escaped, no byte of the reason can act on a terminal or forge a line.
        record.args = (args[0] if args else "?", error.code, ascii(reason)[1:-1])
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        if record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


http_log.addFilter(RefusedInOneLine())

APP_KEY = web.AppKey("tweetchat_app", object)


def build_app(bot: Core) -> tuple[web.Application, RoomService]:
    """The aiohttp application with every route; tests serve it with aiohttp's TestServer."""
    from bot.webapp.routes import setup_room

    app = web.Application(client_max_size=256 * 1024)
    app[APP_KEY] = bot
    setup_api(app, bot)
    service = setup_room(app, bot)

    async def close_sockets(_: web.Application) -> None:
        await service.hub.close_all()  # WebSocket handlers would otherwise hold shutdown up

    async def close_reads(_: web.Application) -> None:
        service.close()  # the room's read connection

    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(close_reads)
    return app, service


class WebServer:
    """The HTTP server on its host and port: started and stopped with the bot."""

    def __init__(self, bot: Core, *, host: str | None = None, port: int | None = None) -> None:
        self.bot = bot
        self.host = host or bot.settings.web.host
        self.port = bot.settings.web.port if port is None else port
        self.app, self.room = build_app(bot)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; a port already taken is a BotError naming the fix."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5,
                                     logger=http_log)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            from bot.core import BotError

            raise BotError(
                f"web room: cannot listen on {self.host}:{self.port} ({exc.strerror}); "
                "is another tweetchat running? Use --port or [web] port in config/settings.toml"
            ) from None
        server = site._server  # the real port when 0 was asked for
        sockets = getattr(server, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("web room at %s", self.url)

    @property
    def url(self) -> str:
        """Where the server listens (the real port when 0 was asked for)."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening and close open connections; stopping twice is harmless."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
