"""`tweetchat import NAME`: one command per platform that has an importer in the registry."""

from __future__ import annotations

import typer

from bot.platforms import registry

import_app = typer.Typer(help="Load past chats into the archive (X, Discord, Bluesky, Mastodon).",
                         no_args_is_help=True)

for _info in registry.PLATFORMS.values():
    if _info.importer is not None:
        import_app.command(_info.name)(registry.load(_info.importer))
