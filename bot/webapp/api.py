"""The JSON API: public status, and moderator controls guarded by auth.py.

`tweetchat control` calls these routes with `Authorization: Bearer <token>`; a console
page may call them with its session cookie plus the CSRF header (auth.require_api). Every
refusal is a 4xx with a plain reason; the session log names who acted from how they
signed in, never from the body.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from bot.host import CONTROLS, ControlError, extend_minutes, session_pace
from bot.webapp.auth import auth_for

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)


MAX_JSON_BYTES = 64 * 1024  # a control, a session start or a message: a few hundred bytes


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400/413 with a one-line reason.

    orjson, not `json`: it refuses NaN and Infinity, integers past 64 bits and nesting past
    1,024 levels as bad JSON, where `json` returned nan or hit a RecursionError (a 500).
    """
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_JSON_BYTES,
                                            actual_size=request.content_length or 0)
    raw = await request.read()  # bounded by the server's client_max_size when chunked
    if len(raw) > MAX_JSON_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_JSON_BYTES, actual_size=len(raw))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("send a JSON object (plain numbers, no NaN, not nested deeply)"
                          ) from None
    if not isinstance(body, dict):
        raise bad_request("send a JSON object")
    return body


_RECORD_ID = re.compile(r"[0-9]{1,18}")


def record_id(value: object) -> int | None:
    """A session/event id from a path, query or form: ASCII digits that fit SQLite, else None.

    `int()` alone accepts '²'-like digits and raises past 4,300 digits; SQLite overflows
    past 2**63. Each was a 500.
    """
    if isinstance(value, str) and _RECORD_ID.fullmatch(value):
        return int(value)
    return None


def bad_request(reason: str) -> web.HTTPBadRequest:
    """A 400 whose JSON body says, in one line, what was wrong."""
    return web.HTTPBadRequest(text=orjson.dumps({"error": reason}).decode(),
                              content_type="application/json")


def typed(body: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    """body[name] if absent/null or of `kind` (never a bool posing as a number); else a 400.

    Wrong types are refused, not coerced: `{"minutes": [5]}` once became a 500 and
    `{"chat": 5}` the string '5'.
    """
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise bad_request(f"'{name}' must be {what}")
    if not isinstance(value, kind):
        raise bad_request(f"'{name}' must be {what}")
    return value


def session_json(bot: Core, session_id: int) -> dict[str, Any]:
    """A session and its items as the API shows them."""
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
    """Add the /api routes: status, sessions, control and reload."""
    routes = web.RouteTableDef()
    auth = auth_for(app, bot)

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
        who = auth.require_api(request, has_body=True)
        body = await read_json(request)
        command = typed(body, "command", str, "a control name") or ""
        if command not in CONTROLS:
            return web.json_response(
                {"error": f"unknown control '{command[:40]}'; use one of {', '.join(CONTROLS)}"},
                status=400)
        minutes = typed(body, "minutes", (int, float), "a number of minutes")
        chat = typed(body, "chat", str, "a chat id")
        session = typed(body, "session", int, "a session number")
        try:
            if minutes is not None:
                minutes = extend_minutes(minutes)
        except ControlError as exc:
            raise bad_request(str(exc)) from None
        try:
            detail = bot.control(command, minutes, chat_id=chat, session_id=session,
                                 actor=who.actor)
        except (ControlError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"ok": True, "detail": detail})

    @routes.post("/api/sessions")
    async def start_session(request: web.Request) -> web.Response:
        who = auth.require_api(request, has_body=True)
        body = await read_json(request)
        chat = typed(body, "chat", str, "a chat id") or ""
        rehearsal = typed(body, "rehearsal", bool, "true or false")
        try:
            pace = typed(body, "pace", (int, float), "a number")
            pace = session_pace(1 if pace is None else pace)
        except ControlError as exc:
            raise bad_request(str(exc)) from None
        try:
            session_id = await bot.start_session(
                chat, pace=pace, rehearsal=pace != 1 if rehearsal is None else rehearsal)
        except (ControlError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=409)
        bot.archive.audit(actor=who.actor, action="session.start", target=chat,
                          detail=f"session {session_id}", at=bot.clock.now())
        return web.json_response({"ok": True, "session": session_json(bot, session_id)})

    @routes.get("/api/sessions/{id:\\d+}")
    async def get_session(request: web.Request) -> web.Response:
        try:
            return web.json_response(session_json(bot, record_id(request.match_info["id"]) or 0))
        except KeyError:
            raise web.HTTPNotFound() from None

    @routes.post("/api/reload")
    async def reload(request: web.Request) -> web.Response:
        auth.require_api(request, has_body=False)
        result = await bot.reload()
        return web.json_response({"ok": True, **result,
                                  "problems": [str(i) for i in bot.script_issues]})

    app.add_routes(routes)
