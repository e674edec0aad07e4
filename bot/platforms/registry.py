"""The one table of platforms: name -> what the rest of the bot needs to know about it.

Nothing else in the house names platforms. `tweetchat check` asks it for each platform's
length rule, the CLI adds each platform's commands and importer from it, moderation reads
the names, and the App builds adapters through it. Adding a platform is adding a package
under `bot/platforms/` and a row below.

Factories, CLI groups, importers and settings models are named as "module:attribute" and
imported only when used, so a web-only chat never imports discord.py or tweepy (and this
module imports no adapter: the chat script, which reads the length rules, stays free of
every SDK), and `tweetchat --help`, which lists the platforms' commands, not pydantic.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.platforms.bluesky.text import MAX_GRAPHEMES, bluesky_problem
from bot.platforms.mastodon.text import mastodon_problem
from bot.platforms.x.text import MAX_WEIGHTED, weighted_length, with_hashtag


def plain_length(text: str, hashtag: str) -> int:
    """Characters as most platforms count them: the text alone, trimmed."""
    return len(text.strip())


def x_length(text: str, hashtag: str) -> int:
    """X's weighted count of what is actually posted: the text with the hashtag appended."""
    return weighted_length(with_hashtag(text.strip(), hashtag))


@dataclass(frozen=True)
class PlatformInfo:
    """One row: how to build the adapter and what the platform accepts."""

    name: str
    label: str
    factory: str  # "module:function(chat: ChatContext, services: PlatformServices) -> Platform"
    max_length: int
    length: Callable[[str, str], int] = plain_length  # (text, hashtag) -> size as counted
    length_unit: str = "characters"
    settings_model: str | None = None  # "module:pydantic model", its [section] in settings
    cli: str | None = None  # "module:typer app", added as `tweetchat NAME`
    importer: str | None = None  # "module:command", added as `tweetchat import NAME`
    for_people: bool = True  # False: in-process only (tests, rehearsals)
    # A rule of its own, for limits a single count cannot say (Bluesky's graphemes *and*
    # bytes; Mastodon's per-instance limit in the chat's settings): (text, hashtag, the
    # chat's settings for this platform) -> the problem, or None when the post fits.
    rule: Callable[[str, str, Mapping[str, Any]], str | None] | None = None
    refuses_repeats: bool = False  # the same text twice is refused: weekly posts vary
    # "module:function(raw payload) -> author id or None": whose a stored payload is. Erasure
    # reads it to find an unfinished import's payloads (no message row names them yet);
    # None for a platform whose payloads are only ever stored with their message.
    payload_author: str | None = None
    # "module:function(raw payload, author id) -> payload or None": someone else's payload
    # with every embedded copy of that author (a replied-to tweet, a mention, a quoted
    # post) taken out, None when it holds none. Erasure rewrites the payloads that name a
    # forgotten person with it; None for a platform whose payloads embed nobody else.
    scrub_payload: str | None = None

    def too_long(self, text: str, hashtag: str,
                 settings: Mapping[str, Any] | None = None) -> str | None:
        """Why `text` does not fit in one post here, or None when it fits."""
        if self.rule is not None:
            return self.rule(text, hashtag, settings or {})
        size = self.length(text, hashtag)
        if size <= self.max_length:
            return None
        return (f"too long for {self.name}: {size} {self.length_unit}, "
                f"the limit is {self.max_length}; shorten it")


PLATFORMS: dict[str, PlatformInfo] = {
    row.name: row
    for row in (
        PlatformInfo(
            name="web", label="the web room", factory="bot.platforms.web.room:build",
            max_length=2000,
        ),
        PlatformInfo(
            name="discord", label="Discord", factory="bot.platforms.discord.adapter:build",
            max_length=2000, settings_model="bot.settings:DiscordSettings",
            importer="bot.platforms.discord.cli:import_discord_command",
            payload_author="bot.platforms.discord.export:payload_author",
            scrub_payload="bot.platforms.discord.export:scrub_payload",
        ),
        PlatformInfo(
            name="x", label="X", factory="bot.platforms.x.adapter:build",
            max_length=MAX_WEIGHTED, length=x_length,
            length_unit="weighted characters with the hashtag (URLs count 23, wide characters 2)",
            settings_model="bot.settings:XSettings", cli="bot.platforms.x.cli:x_app",
            importer="bot.platforms.x.cli:import_x_command", refuses_repeats=True,
            payload_author="bot.platforms.x.tweets:payload_author",
            scrub_payload="bot.platforms.x.tweets:scrub_payload",
        ),
        PlatformInfo(
            name="bluesky", label="Bluesky", factory="bot.platforms.bluesky.adapter:build",
            max_length=MAX_GRAPHEMES, length_unit="graphemes with the hashtag",
            rule=bluesky_problem, settings_model="bot.settings:BlueskySettings",
            cli="bot.platforms.bluesky.cli:bluesky_app",
            importer="bot.platforms.bluesky.cli:import_bluesky_command",
            payload_author="bot.platforms.bluesky.posts:payload_author",
            scrub_payload="bot.platforms.bluesky.posts:scrub_payload",
        ),
        PlatformInfo(
            name="mastodon", label="Mastodon", factory="bot.platforms.mastodon.adapter:build",
            max_length=500, length_unit="characters with the hashtag (URLs count 23)",
            rule=mastodon_problem, settings_model="bot.settings:MastodonSettings",
            cli="bot.platforms.mastodon.cli:mastodon_app",
            importer="bot.platforms.mastodon.cli:import_mastodon_command",
            payload_author="bot.platforms.mastodon.payloads:payload_author",
            scrub_payload="bot.platforms.mastodon.payloads:scrub_payload",
        ),
        PlatformInfo(
            name="memory", label="memory (tests and rehearsals)",
            factory="bot.platforms.memory:build", max_length=100_000, for_people=False,
        ),
    )
}


def names() -> tuple[str, ...]:
    """Every platform a chat script may name."""
    return tuple(PLATFORMS)


def unknown(name: str) -> str:
    """The plain-language reason `name` is not a platform, with the closest real name."""
    close = difflib.get_close_matches(name, PLATFORMS, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(PLATFORMS)}"
    return f"unknown platform '{name}'; {hint}"


def load(ref: str) -> Any:
    """Import "module:attribute" on first use (adapters pull in their SDKs only then)."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)
