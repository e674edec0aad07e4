"""Discord messages -> neutral Messages, and Discord's own ways of writing time.

Shared by live capture, backfill and the /chat commands, so every path stores a Discord
message the same way: the text (with attachment links), the author, the reply and thread,
and the original as Discord described it, kept verbatim in the archive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import discord

from bot.platforms.base import PlatformError
from bot.platforms.discord.export_content import message_text
from bot.records import Author, Message

log = logging.getLogger(__name__)

PLATFORM = "discord"
MAX_LENGTH = 2000  # characters in one Discord message
# Message types that carry something a person said; joins, pins, "started a thread" don't.
CONTENT_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})

TimestampStyle = Literal["t", "T", "d", "D", "f", "F", "R"]


def discord_time(dt: datetime, style: TimestampStyle = "F") -> str:
    """A Discord timestamp tag: every reader sees `dt` in their own time zone."""
    if dt.tzinfo is None:
        raise ValueError("discord_time needs a timezone-aware datetime")
    return f"<t:{int(dt.timestamp())}:{style}>"


def message_payload(msg: discord.Message) -> dict[str, Any]:
    """A JSON-able record of a message as Discord described it (kept verbatim in the archive)."""
    ref = msg.reference
    return {
        "id": str(msg.id),
        "type": msg.type.value,
        "channel_id": str(msg.channel.id),
        "guild_id": str(msg.guild.id) if msg.guild else None,
        "author": {
            "id": str(msg.author.id),
            "username": msg.author.name,
            "global_name": getattr(msg.author, "global_name", None),
            "nick": getattr(msg.author, "nick", None),
            "bot": msg.author.bot,
        },
        "content": msg.content,
        "timestamp": msg.created_at.isoformat(),
        "edited_timestamp": msg.edited_at.isoformat() if msg.edited_at else None,
        "message_reference": (
            {
                "message_id": str(ref.message_id) if ref.message_id else None,
                "channel_id": str(ref.channel_id),
            }
            if ref
            else None
        ),
        "reactions": [{"emoji": str(r.emoji), "count": r.count} for r in msg.reactions],
        "attachments": [
            {"id": str(a.id), "filename": a.filename, "url": a.url} for a in msg.attachments
        ],
    }


def _shown(msg: discord.Message | discord.MessageSnapshot) -> dict[str, Any]:
    """What a reader sees of a message, in DiscordChatExporter's field names."""
    return {
        "content": msg.content,
        "attachments": [{"fileName": a.filename, "url": a.url} for a in msg.attachments],
        "stickers": [{"name": s.name, "sourceUrl": s.url} for s in msg.stickers],
        "embeds": [{"title": e.title, "url": e.url, "description": e.description}
                   for e in msg.embeds],
    }


def to_message(msg: discord.Message, *, channel_id: int, thread_id: int | None) -> Message:
    """Flatten a discord.py message into the neutral shape (thread/channel decided by caller)."""
    # Stickers, files, embeds and forwards shown the same way as in an imported export.
    forward = bool(msg.reference and msg.reference.type == discord.MessageReferenceType.forward)
    shown: dict[str, Any] = _shown(msg)
    if forward:
        shown["reference"] = {"type": "Forward"}
        if msg.message_snapshots:
            shown["forwardedMessage"] = _shown(msg.message_snapshots[0])
    text = message_text(shown)
    author = msg.author
    return Message(
        platform=PLATFORM,
        id=str(msg.id),
        author=Author(
            platform=PLATFORM,
            id=str(author.id),
            name=author.display_name,
            handle=author.name,
            is_bot=author.bot,
        ),
        text=text,
        created=msg.created_at.astimezone(UTC),
        reply_to=str(msg.reference.message_id)
        if msg.reference and msg.reference.message_id and not forward
        else None,
        thread_id=str(thread_id) if thread_id else None,
        channel_id=str(channel_id),
        edited=msg.edited_at.astimezone(UTC) if msg.edited_at else None,
        reactions=sum(r.count for r in msg.reactions),
        url=msg.jump_url,
        # Files and images uploaded with it; embeds are link previews (links count apart).
        # Discord reports no follower counts.
        media=min(len(msg.attachments), 100),
        raw=message_payload(msg),
    )


async def send_transcript(channel: discord.TextChannel, title: str, files: Sequence[Path],
                          link: str | None) -> None:
    """Post the HTML and Markdown transcript (those that fit the upload limit) and the link.

    Only the link when the bot may not attach files here.
    """
    limit = channel.guild.filesize_limit
    wanted = [Path(f) for f in files if Path(f).suffix in (".html", ".md")]
    fits = [f for f in wanted if f.is_file() and f.stat().st_size <= limit]
    text = f"The transcript of **{title}** is ready."
    if link:
        text += f" Read it online: {link}"
    if not channel.permissions_for(channel.guild.me).attach_files:
        log.warning("discord: no 'Attach Files' in #%s; sharing the link only", channel.name)
        fits = []
        if not link:
            return
    elif len(fits) < len(wanted):
        text += f" ({len(wanted) - len(fits)} file(s) too large to attach here.)"
    try:
        await channel.send(
            text[:MAX_LENGTH],
            files=[discord.File(f, filename=f.name) for f in fits],
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except discord.HTTPException as e:
        raise PlatformError(
            f"Discord: transcript not shared: {e}", retryable=e.status >= 500
        ) from e
