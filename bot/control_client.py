"""Talks to the running bot's control endpoint (for `tweetchat control`)."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import asyncio

from .settings import Settings


class ControlClientError(Exception):
    pass


def moderator_token(settings: Settings) -> str:
    if settings.secrets.moderator_token is not None:
        return settings.secrets.moderator_token.get_secret_value()
    path = Path(settings.archive.transcripts_dir) / ".moderator-token"
    if path.is_file():
        return path.read_text().strip()
    raise ControlClientError(
        "no moderator token: set MODERATOR_TOKEN (as the bot has it) in the environment or .env"
    )


def send_control(settings: Settings, command: str, minutes: float | None, *,
                 chat: str | None = None, url: str | None = None) -> str:
    base = url or os.environ.get("TWEETCHAT_URL") or (
        f"http://{settings.web.host}:{settings.web.port}")
    token = moderator_token(settings)

    async def call() -> str:
        body = {"command": command, "minutes": minutes, "chat": chat, "actor": "cli"}
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(f"{base}/api/control", json=body,
                                        headers={"Authorization": f"Bearer {token}"}) as resp:
                    data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ControlClientError(
                f"cannot reach the bot at {base} ({exc.__class__.__name__}); "
                "is `tweetchat run` running? Use --url if it listens elsewhere") from None
        if resp.status == 403:
            raise ControlClientError("the bot refused the moderator token; check MODERATOR_TOKEN")
        if resp.status != 200:
            raise ControlClientError(data.get("error", f"HTTP {resp.status}"))
        return str(data["detail"])

    return asyncio.run(call())
