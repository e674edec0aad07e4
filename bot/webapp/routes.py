"""The web room's routes.

Pages, the room's WebSocket, a plain JSON endpoint for posting, the moderator console and
the static files. (The control API lives in api.py.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.platforms.web.guard import Refused, author_id_for
from bot.platforms.web.origin import client_address
from bot.platforms.web.service import RoomService
from bot.platforms.web.ws import room_socket
from bot.webapp.api import read_json, record_id
from bot.webapp.console import setup_moderate
from bot.webapp.forms import read_form
from bot.webapp.pages import CHAT_RE, setup_pages
from bot.webapp.templating import STATIC, make_env, security_headers

if TYPE_CHECKING:
    from bot.core import Core

SERVICE_KEY = web.AppKey("tweetchat_room", RoomService)


def refusal(exc: Refused) -> web.Response:
    """A refused room request as JSON: its sentence, its code, and Retry-After on a 429."""
    return web.json_response({"error": str(exc), "code": exc.code}, status=exc.status,
                             headers=exc.headers())


def setup_room(app: web.Application, bot: Core) -> RoomService:
    """Add the room's routes, the pages, the console and the static files; the room service."""
    service = RoomService(bot)
    app[SERVICE_KEY] = service
    env = make_env()
    app.middlewares.append(security_headers)
    setup_pages(app, bot, env)
    setup_moderate(app, bot, env)

    async def socket(request: web.Request) -> web.StreamResponse:
        return await room_socket(request, service)

    async def post_message(request: web.Request) -> web.Response:
        """For clients without a WebSocket: the same rules, one message per request."""
        chat = request.match_info["chat"]
        body = await read_json(request)
        try:
            service.platform(chat)
            author_id = author_id_for(body.get("key"))
            name = service.display_name(chat, body.get("name"))
            address = client_address(request, bot.settings.web.trusted_proxies)
            result = await service.send(chat, author_id=author_id, name=name,
                                        text=body.get("text"), reply_to=body.get("reply_to"),
                                        address=address)
        except Refused as exc:
            return refusal(exc)
        return web.json_response({"ok": True, **result})

    async def get_state(request: web.Request) -> web.Response:
        """The room's state as JSON, or with `?before=<id>` one older page.

        The older page is the WebSocket's "older" frame, by the same code. Limited per
        client address, since every call reads the archive.
        """
        chat = request.match_info["chat"]
        try:
            service.read_limiter.check(client_address(request, bot.settings.web.trusted_proxies))
            service.platform(chat)
            if "before" in request.query:
                return web.json_response(await service.older(chat, request.query["before"]))
            author_id = author_id_for(request.headers["X-Room-Key"]) \
                if "X-Room-Key" in request.headers else None
        except Refused as exc:
            return refusal(exc)
        since = request.query.get("since") or None
        session = request.query.get("session")
        return web.json_response(await service.state(
            chat, author_id=author_id, since=since,
            known_session=record_id(session), view=request.query.get("view")))

    async def certificate(request: web.Request) -> web.Response:
        """A participant's own CPD certificate for a closed session.

        The room knows them by their browser's key, posted in a form (never in a URL, so
        never in a log).
        """
        chat = request.match_info["chat"]
        form = await read_form(request, max_bytes=4096)
        session_text = str(form.get("session", ""))
        try:
            author_id = author_id_for(form.get("key"))
        except Refused as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        session_id = record_id(session_text) or -1
        try:
            session = bot.archive.session(session_id)
        except KeyError:
            session = None
        if session is None or session.chat_id != chat:
            raise web.HTTPNotFound(text="No such session in this chat.")
        if session.status not in ("ended", "missed"):
            raise web.HTTPConflict(text="Certificates are ready once the chat has closed.")
        from bot.transcript.certificate import CertificateError

        try:
            name, page = await bot.publisher.certificate(session_id, "web", author_id)
        except CertificateError:
            raise web.HTTPNotFound(text="You posted nothing public in this session, so there "
                                        "is no certificate to download.") from None
        return web.Response(text=page, content_type="text/html", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    app.router.add_get(r"/chats/{chat:" + CHAT_RE + r"}/ws", socket)
    app.router.add_post(r"/chats/{chat:" + CHAT_RE + r"}/certificate", certificate)
    app.router.add_post("/api/chats/{chat}/messages", post_message)
    app.router.add_get("/api/chats/{chat}/state", get_state)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
    return service


__all__ = ["SERVICE_KEY", "setup_room"]
