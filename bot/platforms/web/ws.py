"""The room's WebSocket: /chats/<chat>/ws.

Client -> server (JSON text frames):
    {"type": "join", "key": <browser secret>, "name": <display name or "">,
     "since": <last message id seen or null>, "session": <session id it was viewing or null>,
     "view": <the "view" token of the last state it got, or null>}
    {"type": "older", "before": <the oldest message id it has>, "nonce": ...}
    {"type": "name", "name": ...}
    {"type": "role", "role": <one of the chat's roles, or "" for none>, "nonce": ...}
    {"type": "send", "text": ..., "reply_to": <id or null>, "nonce": <client's own tag>}
    {"type": "edit", "id": ..., "text": ..., "nonce": ...}
    {"type": "delete", "id": ..., "nonce": ...}
    {"type": "ping"}
Every field is checked for its type: text and ids are strings (ids at most 64 characters),
a nonce a number or a string of at most 100 characters; anything else is refused with an
"error" frame and the connection stays open.
Server -> client: "state" (on join: the latest messages, "more" when older ones exist),
"older" {messages, more} (a page, on request), then "message", "edited", "deleted", "hidden",
"restored", "redacted", "published" as they happen; "ack" {nonce, id} once a message is
stored; "error" {nonce, code, error[, retry_after]} with a sentence to show (retry_after:
seconds before a refused join or request may be tried again); "pong".

The handshake is refused (403) when a browser page from another origin opens it: browsers
always send `Origin` on a WebSocket handshake, so only the room's own pages (the public URL,
or the host the request was sent to) get in. A client without `Origin` is not a browser
page (a script, a bot, a test) and holds no one else's cookies or keys, so it may connect
under the same limits. At most `[web] max_connections_per_address` sockets are open per
client address (429 beyond), and joins and "older" pages count against the address's
`[web] state_requests_per_minute_per_address`, like the JSON state endpoint.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from bot.platforms.web.guard import Refused, author_id_for
from bot.platforms.web.hub import Client
from bot.platforms.web.origin import client_address, is_same_origin

if TYPE_CHECKING:
    from bot.platforms.web.service import RoomService

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024
NONCE_MAX = 100  # the page's nonces are a letter and a counter ("s12")


def _frame(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


def _nonce(value: object) -> str | int | float | None:
    """The client's tag, echoed in the reply: a short string or a number, else Refused.

    It is echoed back as is, so an object 300 levels deep once made orjson.dumps raise and
    the socket drop; a 60 KB string would have been sent back in full.
    """
    if value is None or isinstance(value, (int, float)) \
            or (isinstance(value, str) and len(value) <= NONCE_MAX):
        return value
    raise Refused(f"A nonce must be a number or a string of at most {NONCE_MAX} characters.",
                  code="bad_nonce")


async def room_socket(request: web.Request, service: RoomService) -> web.StreamResponse:
    """One participant's WebSocket: join, then send/edit/delete frames, each checked."""
    chat_id = request.match_info["chat"]
    try:
        service.platform(chat_id)
    except Refused as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    settings = service.bot.settings.web
    if not is_same_origin(request, settings.public_url, missing_ok=True):
        raise web.HTTPForbidden(text="This room only accepts connections from its own pages.")
    address = client_address(request, settings.trusted_proxies)
    if service.connections.get(address, 0) >= settings.max_connections_per_address:
        raise web.HTTPTooManyRequests(
            text=f"Too many open connections from your address (at most "
                 f"{settings.max_connections_per_address}); close a tab and reload.")
    service.connections[address] = service.connections.get(address, 0) + 1
    try:
        return await _serve(request, service, chat_id, address)
    finally:
        left = service.connections.get(address, 1) - 1
        if left > 0:
            service.connections[address] = left
        else:
            service.connections.pop(address, None)


async def _serve(request: web.Request, service: RoomService, chat_id: str,
                 address: str) -> web.WebSocketResponse:
    """The socket's life: join, then each frame checked and answered."""
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
            nonce = None
            try:
                nonce = _nonce(data.get("nonce"))
                kind = data.get("type")
                if kind == "join":
                    if joined:
                        raise Refused("Already joined; reload the page to join again.")
                    # A join reads the room for whoever asks, as GET .../state does: both
                    # count against the same per-address minute (a reconnect loop too).
                    service.read_limiter.check(address)
                    async with service.join_turn():  # a crowd is let in a few at a time
                        client.author_id = author_id_for(data.get("key"))
                        if data.get("name"):
                            client.name = service.display_name(chat_id, data.get("name"))
                        since = data.get("since") if isinstance(data.get("since"), str) \
                            else None
                        known = data.get("session") if isinstance(data.get("session"), int) \
                            else None
                        view = data.get("view") if isinstance(data.get("view"), str) else None
                        state = await service.state(chat_id, author_id=client.author_id,
                                                    since=since, known_session=known, view=view)
                        state["name"] = client.name
                        service.hub.add(client, _frame(state))  # no await between state, add
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
                                                reply_to=data.get("reply_to"), address=address)
                    client.send(_frame({"type": "ack", "nonce": nonce, **result}))
                elif kind == "edit":
                    result = await service.edit(chat_id, author_id=client.author_id,
                                                message_id=data.get("id"), text=data.get("text"),
                                                address=address)
                    client.send(_frame({"type": "ack", "nonce": nonce, **result}))
                elif kind == "older":  # an earlier page, read off the event loop
                    service.read_limiter.check(address)
                    client.send(_frame({**await service.older(chat_id, data.get("before")),
                                        "nonce": nonce}))
                elif kind == "delete":
                    result = await service.delete(chat_id, author_id=client.author_id,
                                                  message_id=data.get("id"), address=address)
                    client.send(_frame({"type": "ack", "nonce": nonce, **result}))
                else:
                    raise Refused("The room does not know that request.", code="unknown_type")
            except Refused as exc:
                error = {"type": "error", "nonce": nonce, "code": exc.code, "error": str(exc)}
                if exc.retry_seconds is not None:  # when a refused join may try again
                    error["retry_after"] = exc.retry_seconds
                await _reply(client, joined, error)
            except Exception:  # a bug must not cost the participant their connection
                log.exception("room socket: a request failed")
                await _reply(client, joined, {
                    "type": "error", "nonce": nonce, "code": "server_error",
                    "error": "The room could not handle that request; try again."})
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
