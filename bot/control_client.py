"""Talks to the running bot's control endpoint (for `tweetchat control`)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from pathlib import Path

import aiohttp
import orjson

from bot.host import extend_minutes, session_pace
from bot.settings import Settings

log = logging.getLogger(__name__)

# Bytes of the bot's reply read at most: its JSON is one short line; a server that is not
# the bot (a wrong --url) may send anything, of any size.
MAX_REPLY = 64 * 1024


class ControlClientError(Exception):
    """The running bot cannot be reached or refused: one plain line."""


def ensure_moderator_token(settings: Settings) -> str:
    """The bot's moderator token: MODERATOR_TOKEN, else the one kept in a private file.

    The file is made on first run, so `tweetchat control` on this machine finds the token
    and nothing prints it.
    """
    token = settings.secrets.moderator_token
    if token is not None:
        return token.get_secret_value()
    path = settings.moderator_token_file
    if path.is_file():
        return _read_token(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    path.write_text(value)
    path.chmod(0o600)
    log.info("no MODERATOR_TOKEN set; generated one in %s", path)
    return value


def moderator_token(settings: Settings) -> str:
    """The token to send: MODERATOR_TOKEN, else the bot's private file; never made here."""
    if settings.secrets.moderator_token is not None:
        return settings.secrets.moderator_token.get_secret_value()
    path = settings.moderator_token_file
    if path.is_file():
        return _read_token(path)
    raise ControlClientError(
        "no moderator token: set MODERATOR_TOKEN (as the bot has it) in the environment or .env"
    )


def _read_token(path: Path) -> str:
    """The token kept in `path`; a file that is not UTF-8 text is one line saying so."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise ControlClientError(f"{path}: the moderator token file is not UTF-8 text; delete "
                                 "it (the bot makes a new one when it starts) or set "
                                 "MODERATOR_TOKEN") from None


def _reply(base: str, status: int, body: bytes) -> str:
    """The bot's one-line reply from its JSON answer, or one line saying it was not the bot."""
    try:
        data = orjson.loads(body) if len(body) <= MAX_REPLY else None
    except orjson.JSONDecodeError:
        data = None
    if status == 403:
        raise ControlClientError("the bot refused the moderator token; check MODERATOR_TOKEN")
    if not isinstance(data, dict) or not isinstance(data.get("detail" if status == 200
                                                             else "error"), str):
        raise ControlClientError(
            f"{base} answered HTTP {status} but not as tweetchat does; check --url (the bot's "
            "address, such as http://127.0.0.1:8080, without a path)")
    if status != 200:
        raise ControlClientError(data["error"])
    return str(data["detail"])


def send_control(settings: Settings, command: str, minutes: float | None, *,
                 chat: str | None = None, url: str | None = None) -> str:
    """Send a control (pause, extend ...) to the running bot; its reply, in one line."""
    if minutes is not None:
        minutes = extend_minutes(minutes)  # nan or 1e400 would reach the bot as null/NaN
    base = url or os.environ.get("TWEETCHAT_URL") or settings.bot_url
    token = moderator_token(settings)

    async def call() -> str:
        asked = {"command": command, "minutes": minutes, "chat": chat}
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(f"{base}/api/control", json=asked,
                                        headers={"Authorization": f"Bearer {token}"}) as resp:
                    answer = await resp.content.read(MAX_REPLY + 1)
                    status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ControlClientError(
                f"cannot reach the bot at {base} ({exc.__class__.__name__}); "
                "is `tweetchat run` running? Use --url if it listens elsewhere") from None
        return _reply(base, status, answer)

    return asyncio.run(call())


def running_bot_chats(settings: Settings, url: str | None = None) -> list[str] | None:
    """The chats a bot already running on this machine hosts, or None if none answers."""
    base = url or settings.bot_url
    if settings.web.port == 0:
        return None

    async def call() -> list[str] | None:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.5)) as s:
                async with s.get(f"{base}/api/status") as resp:
                    if resp.status != 200:
                        return None
                    return list((await resp.json()).get("chats", []))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    return asyncio.run(call())


def start_remote(settings: Settings, chat_id: str, pace: float, rehearsal: bool,
                 url: str | None = None) -> dict:
    """Ask the running bot to host a session now (so two bots never fight over a port)."""
    pace = session_pace(pace)
    base = url or settings.bot_url
    token = moderator_token(settings)

    async def call() -> dict:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
            async with s.post(f"{base}/api/sessions", json={
                    "chat": chat_id, "pace": pace, "rehearsal": rehearsal},
                    headers={"Authorization": f"Bearer {token}"}) as resp:
                data = await resp.json(content_type=None)
        if resp.status == 403:
            raise ControlClientError("the running bot refused the moderator token")
        if resp.status != 200:
            raise ControlClientError(data.get("error", f"HTTP {resp.status}"))
        return dict(data["session"])

    return asyncio.run(call())
