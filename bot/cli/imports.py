"""`tweetchat import NAME`: one command per platform that has an importer in the registry."""

from __future__ import annotations

import typer

from bot.platforms import registry

import_app = typer.Typer(help="""Load past chats into the archive (X, Discord, Bluesky, Mastodon).

Each platform's own --help shows the files it reads.

Examples:

  tweetchat import x chat.jsonl --script chats/nhssm.yaml

  tweetchat import discord export.json --script chats/nhssm.yaml

  tweetchat import bluesky search.jsonl --script chats/nhssm.yaml

  tweetchat import mastodon archive/outbox.json --script chats/nhssm.yaml
""", no_args_is_help=True)

for _info in registry.PLATFORMS.values():
    if _info.importer is not None:
        import_app.command(_info.name)(registry.load(_info.importer))
