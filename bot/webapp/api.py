"""The JSON API: public status, and moderator controls guarded by the token.

`tweetchat control` and the moderator console both use these routes. The token is
compared in constant time and every refusal is a 403 with a plain reason.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.host import CONTROLS, ControlError

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)


def token_ok(request: web.Request, bot: Core) -> bool:
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not supplied:
        supplied = request.cookies.get("tweetchat_mod", "")
    return bool(supplied) and hmac.compare_digest(supplied.encode(), bot.moderator_token.encode())


def require_moderator(request: web.Request, bot: Core) -> None:
    if not token_ok(request, bot):
        raise web.HTTPForbidden(
            text='{"error": "moderator token missing or wrong"}', content_type="application/json"
        )


async def read_json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "send a JSON object"}',
                                 content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "send a JSON object"}',
                                 content_type="application/json")
    return body


def session_json(bot: Core, session_id: int) -> dict[str, Any]:
    s = bot.archive.session(session_id)
    return {
        "id": s.id, "chat": s.chat_id, "title": s.title, "status": s.status,
        "rehearsal": s.rehearsal, "pace": s.pace, "start": s.scheduled_start.isoformat(),
        "platforms": list(s.platforms),
        "items": [
            {"key": i.key, "number": i.number, "status": i.status, "due_offset": i.due_offset,
             "posted_at": i.posted_at.isoformat() if i.posted_at else None}
            for i in bot.archive.items(session_id)
        ],
    }


def setup_api(app: web.Application, bot: Core) -> None:
    routes = web.RouteTableDef()

    @routes.get("/api/status")
    async def status(request: web.Request) -> web.Response:
        live = [session_json(bot, sid) for sid in bot.hosts if not bot.host_tasks[sid].done()]
        return web.json_response({
            "chats": sorted(bot.chats),
            "live": live,
            "upcoming": [{"chat": o.chat_id, "start": o.start.isoformat()}
                         for o in bot.upcoming(1)],
        })

    @routes.post("/api/control")
    async def control(request: web.Request) -> web.Response:
        require_moderator(request, bot)
        body = await read_json(request)
        command = str(body.get("command", ""))
        if command not in CONTROLS:
            return web.json_response(
                {"error": f"unknown control '{command}'; use one of {', '.join(CONTROLS)}"},
                status=400)
        try:
            minutes = float(body["minutes"]) if body.get("minutes") is not None else None
            detail = bot.control(command, minutes, chat_id=body.get("chat"),
                                 session_id=body.get("session"),
                                 actor=body.get("actor") or "moderator")
        except (ControlError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"ok": True, "detail": detail})

    @routes.post("/api/sessions")
    async def start_session(request: web.Request) -> web.Response:
        require_moderator(request, bot)
        body = await read_json(request)
        try:
            pace = float(body.get("pace") or 1)
            if not 0.1 <= pace <= 3600:
                raise ValueError("pace must be between 0.1 and 3600")
            session_id = await bot.start_session(
                str(body.get("chat", "")), pace=pace,
                rehearsal=bool(body.get("rehearsal", pace != 1)),
            )
        except (ControlError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"ok": True, "session": session_json(bot, session_id)})

    @routes.get("/api/sessions/{id:\\d+}")
    async def get_session(request: web.Request) -> web.Response:
        try:
            return web.json_response(session_json(bot, int(request.match_info["id"])))
        except KeyError:
            raise web.HTTPNotFound() from None

    @routes.post("/api/reload")
    async def reload(request: web.Request) -> web.Response:
        require_moderator(request, bot)
        result = await bot.reload()
        return web.json_response({"ok": True, **result,
                                  "problems": [str(i) for i in bot.script_issues]})

    app.add_routes(routes)
