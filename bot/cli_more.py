"""Command groups that live beside their features. Each feature module offers
`register(app, import_app)`; a feature whose optional parts fail to import is skipped."""

from __future__ import annotations

import importlib

import typer

FEATURES = ("bot.platforms.x.cli", "bot.platforms.discord.cli", "bot.cli.moderation")


def register(app: typer.Typer) -> None:
    import_app = typer.Typer(help="Load past chats into the archive (X, Discord exports).",
                             no_args_is_help=True)
    app.add_typer(import_app, name="import")
    for name in FEATURES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app, import_app)
