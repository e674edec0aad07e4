"""Builds a chat's platform adapters from its script and the settings.

Adapters are imported lazily: a web-only chat never imports discord.py or tweepy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import ChatContext, Platform, PlatformSetupError

if TYPE_CHECKING:
    from ..app import App
    from ..script import ChatScript


def context_for(script: ChatScript, platform: str, defaults: dict[str, Any] | None = None
                ) -> ChatContext:
    settings = dict(defaults or {})
    settings.update({k: v for k, v in script.settings_for(platform).items() if v not in ("", None)})
    return ChatContext(chat_id=script.id, title=script.title, hashtag=script.hashtag,
                       settings=settings)


def make_platform(name: str, script: ChatScript, app: App) -> Platform:
    s = app.settings
    if name == "memory":
        from .memory import MemoryPlatform

        return MemoryPlatform(context_for(script, name), clock=app.clock)
    if name == "web":
        from .web.room import WebRoomPlatform

        return WebRoomPlatform(context_for(script, name), app=app)
    if name == "discord":
        from .discord_platform import DiscordPlatform, settings_defaults

        return DiscordPlatform.from_app(context_for(script, name, settings_defaults(s)), app)
    if name == "x":
        from .x_platform import XPlatform

        return XPlatform.from_settings(context_for(script, name), s, clock=app.clock)
    raise PlatformSetupError(f"unknown platform '{name}'; use web, discord, x or memory")
