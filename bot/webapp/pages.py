"""The public pages: home, each chat's room, calendar invites, and the archive.

Home lists the upcoming chats; the archive has sessions, transcripts and search. The pages
are server-rendered; the one script only enhances them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from jinja2 import Environment

from bot.calendar import chat_calendar
from bot.publishing import session_dir
from bot.schedule import Occurrence, occurrences
from bot.script import ChatScript
from bot.webapp.api import record_id
from bot.webapp.archive_pages import setup_archive_pages
from bot.webapp.templating import TRANSCRIPT_CSP, render

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

CHAT_RE = r"[a-z0-9][a-z0-9-]{0,62}"


@dataclass(frozen=True)
class ChatCard:
    script: ChatScript
    next: Occurrence | None
    live_session: int | None

    @property
    def local_text(self) -> str:
        return self.next.local_start.strftime("%A %d %B %Y, %H:%M") if self.next else ""


def chat_or_404(bot: Core, chat_id: str) -> ChatScript:
    runtime = bot.chats.get(chat_id)
    if runtime is None:
        raise web.HTTPNotFound(text=f"There is no chat called '{chat_id}'.")
    return runtime.script


def public_url(request: web.Request, bot: Core) -> str:
    """The address people reach the site at: `[web] public_url`, else this request's host."""
    return (bot.settings.web.public_url or f"{request.scheme}://{request.host}").rstrip("/")


def setup_pages(app: web.Application, bot: Core, env: Environment) -> None:
    """Add the public pages' routes."""
    routes = web.RouteTableDef()

    @routes.get("/")
    async def home(request: web.Request) -> web.Response:
        now = bot.clock.now()
        cards = []
        for chat_id in sorted(bot.chats):
            script = bot.chats[chat_id].script
            nxt = occurrences(script, now, 1)
            cards.append(ChatCard(script, nxt[0] if nxt else None, bot.live_session(chat_id)))
        never = datetime.max.replace(tzinfo=now.tzinfo)
        cards.sort(key=lambda c: (c.live_session is None, c.next.start if c.next else never))
        return render(env, "home.html.j2", cards=cards, now=now)

    @routes.get(r"/chats/{chat:" + CHAT_RE + r"}.ics")
    async def invite(request: web.Request) -> web.Response:
        script = chat_or_404(bot, request.match_info["chat"])
        body = chat_calendar(script, now=bot.clock.now(),
                             room_url=f"{public_url(request, bot)}/chats/{script.id}")
        return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{script.id}.ics"'})

    @routes.get(r"/chats/{chat:" + CHAT_RE + r"}")
    async def room(request: web.Request) -> web.Response:
        script = chat_or_404(bot, request.match_info["chat"])
        if "web" not in bot.chats[script.id].platforms:
            raise web.HTTPNotFound(text=f"The chat '{script.id}' has no web room.")
        now = bot.clock.now()
        nxt = occurrences(script, now, 1)
        return render(env, "room.html.j2", script=script, next=nxt[0] if nxt else None,
                      live=bot.live_session(script.id) is not None)

    @routes.get(r"/archive/{session:\d+}")
    async def transcript(request: web.Request) -> web.StreamResponse:
        try:
            session = bot.archive.session(record_id(request.match_info["session"]) or 0)
        except KeyError:
            raise web.HTTPNotFound(text="There is no such session in the archive.") from None
        if session.status != "ended":
            raise web.HTTPNotFound(text="This session has not ended yet; its transcript "
                                        "appears when it closes.")
        path = session_dir(bot.transcripts_dir, session) / "transcript.html"
        if not path.is_file():
            await bot.publisher.publish(session.id)  # in the worker: the loop only waits
        return web.FileResponse(path, headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": TRANSCRIPT_CSP, "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        })

    app.add_routes(routes)
    setup_archive_pages(app, bot, env)  # the index and search: read on worker threads


__all__ = ["setup_pages"]
