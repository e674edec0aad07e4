"""Builds a chat's platform adapters from its script and the settings.

Adapters are imported lazily: a web-only chat never imports discord.py or tweepy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.platforms.base import ChatContext, Platform, PlatformSetupError

if TYPE_CHECKING:
    from bot.app import App
    from bot.script import ChatScript


def context_for(script: ChatScript, platform: str, defaults: dict[str, Any] | None = None
                ) -> ChatContext:
    settings = dict(defaults or {})
    settings.update({k: v for k, v in script.settings_for(platform).items() if v not in ("", None)})
    return ChatContext(chat_id=script.id, title=script.title, hashtag=script.hashtag,
                       settings=settings)


def make_platform(name: str, script: ChatScript, app: App) -> Platform:
    s = app.settings
    if name == "memory":
        from bot.platforms.memory import MemoryPlatform

        return MemoryPlatform(context_for(script, name), clock=app.clock)
    if name == "web":
        from bot.platforms.web.room import WebRoomPlatform

        return WebRoomPlatform(context_for(script, name), app=app)
    if name == "discord":
        from bot.platforms.discord.adapter import DiscordPlatform, settings_defaults

        return DiscordPlatform.from_app(context_for(script, name, settings_defaults(s)), app)
    if name == "x":
        from bot.platforms.x.adapter import XPlatform

        return XPlatform.from_settings(context_for(script, name), s, clock=app.clock)
    raise PlatformSetupError(f"unknown platform '{name}'; use web, discord, x or memory")
