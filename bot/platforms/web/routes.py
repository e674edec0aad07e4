"""The web room's routes (a minimal JSON endpoint; pages and WebSocket come with the room)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .api import read_json

if TYPE_CHECKING:
    from ...app import App


def setup_room(app: web.Application, bot: App) -> None:
    async def post_message(request: web.Request) -> web.Response:
        chat = request.match_info["chat"]
        runtime = bot.chats.get(chat)
        if runtime is None or "web" not in runtime.platforms:
            raise web.HTTPNotFound(text="no such chat room")
        body = await read_json(request)
        name = str(body.get("name", "")).strip()[:60]
        text = str(body.get("text", "")).strip()
        if not name or not text:
            return web.json_response({"error": "name and text are required"}, status=400)
        platform = runtime.platforms["web"]
        message = await platform.receive(  # type: ignore[attr-defined]
            author_id=str(body.get("author_id") or name.lower()), name=name, text=text,
            reply_to=body.get("reply_to"))
        return web.json_response({"ok": True, "id": message.id})

    app.router.add_post("/api/chats/{chat}/messages", post_message)
