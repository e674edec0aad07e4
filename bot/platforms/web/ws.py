"""The room's WebSocket: /chats/<chat>/ws.

Client -> server (JSON text frames):
    {"type": "join", "key": <browser secret>, "name": <display name or "">,
     "since": <last message id seen or null>, "session": <session id it was viewing or null>}
    {"type": "name", "name": ...}
    {"type": "role", "role": <one of the chat's roles, or "" for none>, "nonce": ...}
    {"type": "send", "text": ..., "reply_to": <id or null>, "nonce": <client's own tag>}
    {"type": "edit", "id": ..., "text": ..., "nonce": ...}
    {"type": "delete", "id": ..., "nonce": ...}
    {"type": "ping"}
Server -> client: "state" (on join), then "message", "edited", "deleted", "hidden",
"restored", "redacted", "published" as they happen; "ack" {nonce, id} once a message is
stored; "error" {nonce, code, error} with a sentence to show; "pong".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from bot.platforms.web.guard import Refused, author_id_for
from bot.platforms.web.hub import Client

if TYPE_CHECKING:
    from bot.platforms.web.service import RoomService

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024


def _frame(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


async def room_socket(request: web.Request, service: RoomService) -> web.StreamResponse:
    """One participant's WebSocket: join, then send/edit/delete frames, each checked."""
    chat_id = request.match_info["chat"]
    try:
        service.platform(chat_id)
    except Refused as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    client = Client(chat_id, ws)
    joined = False
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.ERROR:
                    log.debug("websocket error: %s", ws.exception())
                continue
            try:
                data = orjson.loads(msg.data)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                await _reply(client, joined, {"type": "error", "code": "bad_json",
                                              "error": "The room could not read that request."})
                continue
            nonce = data.get("nonce")
            try:
                kind = data.get("type")
                if kind == "join":
                    if joined:
                        raise Refused("Already joined; reload the page to join again.")
                    client.author_id = author_id_for(data.get("key"))
                    if data.get("name"):
                        client.name = service.display_name(chat_id, data.get("name"))
                    since = data.get("since") if isinstance(data.get("since"), str) else None
                    known = data.get("session") if isinstance(data.get("session"), int) else None
                    state = service.state(chat_id, author_id=client.author_id, since=since,
                                          known_session=known)
                    state["name"] = client.name
                    service.hub.add(client, _frame(state))  # no await between read and add
                    joined = True
                elif not joined:
                    raise Refused("Join the room first.", code="not_joined")
                elif kind == "ping":
                    client.send(_frame({"type": "pong"}))
                elif kind == "name":
                    client.name = service.display_name(chat_id, data.get("name"))
                    client.send(_frame({"type": "ack", "nonce": nonce, "name": client.name}))
                elif kind == "role":
                    role = service.set_role(chat_id, client.author_id, data.get("role"))
                    client.send(_frame({"type": "ack", "nonce": nonce, "role": role}))
                elif kind == "send":
                    if not client.name:
                        raise Refused("Choose a display name before you write.", code="bad_name")
                    result = await service.send(chat_id, author_id=client.author_id,
                                                name=client.name, text=data.get("text"),
                                                reply_to=data.get("reply_to"))
                    client.send(_frame({"type": "ack", "nonce": nonce, **result}))
                elif kind == "edit":
                    result = await service.edit(chat_id, author_id=client.author_id,
                                                message_id=data.get("id"), text=data.get("text"))
                    client.send(_frame({"type": "ack", "nonce": nonce, **result}))
                elif kind == "delete":
                    result = await service.delete(chat_id, author_id=client.author_id,
                                                  message_id=data.get("id"))
                    client.send(_frame({"type": "ack", "nonce": nonce, **result}))
                else:
                    raise Refused("The room does not know that request.", code="unknown_type")
            except Refused as exc:
                await _reply(client, joined, {"type": "error", "nonce": nonce, "code": exc.code,
                                              "error": str(exc)})
    finally:
        if joined:
            await service.hub.remove(client)
    return ws


async def _reply(client: Client, joined: bool, payload: dict[str, Any]) -> None:
    """Replies go through the client's queue once it has one, keeping frames in order."""
    if joined:
        client.send(_frame(payload))
    else:
        await client.ws.send_str(_frame(payload))


__all__ = ["room_socket"]
