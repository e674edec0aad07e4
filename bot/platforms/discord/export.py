"""DiscordChatExporter JSON exports -> neutral `Message` objects (platform "discord").

An export is one channel: `{"guild": {...}, "channel": {...}, "messages": [...], ...}`.
DiscordChatExporter writes each thread as its own export whose channel is the thread
(type "GuildPublicThread"/"GuildPrivateThread", `categoryId` = the parent channel), so a
chat with question threads arrives as several files; messages from a thread file get
`thread_id` = the thread's id and `channel_id` = its parent, exactly as the live adapter
reports them, so the archive's upserts merge the two.

Exports of busy channels run to hundreds of megabytes, so files are read as a stream: the
small header values are decoded whole and the "messages" array in runs of whole messages
(bot/platforms/discord/export_stream.py). Parsing is pure: no archive writes here (the
archive's importer consumes the iterator).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from bot.platforms.discord.export_content import is_forward, message_text
from bot.platforms.discord.export_stream import CHUNK, ExportError, ExportReader
from bot.platforms.payload import length
from bot.platforms.scrubbing import Shape, scrub
from bot.records import Author, Message

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Types that carry something a person (or the host bot) said; joins, pins, "started a
# thread", boosts and calls do not, and are kept out of the chat (never answers).
CONTENT_TYPES = frozenset({"Default", "Reply", "ChatInputCommand", "ContextMenuCommand"})


@dataclass(frozen=True)
class ExportInfo:
    """Which channel (or thread) an export holds."""

    guild_id: str | None
    guild_name: str
    channel_id: str | None  # the chat channel: for a thread export, its parent
    channel_name: str
    thread_id: str | None = None  # set when the export is of a thread

    @cached_property
    def link(self) -> str:
        """The web link of the channel (or thread): a message's link adds its id."""
        guild = self.guild_id if self.guild_id not in (None, "0") else "@me"
        return f"https://discord.com/channels/{guild}/{self.thread_id or self.channel_id}"


def export_info(guild: Mapping[str, Any], channel: Mapping[str, Any]) -> ExportInfo:
    """Where a DiscordChatExporter file was exported from: guild, channel and thread."""
    kind = str(channel.get("type", ""))
    channel_id = _str_or_none(channel.get("id"))
    guild_id = _str_or_none(guild.get("id"))
    if "Thread" in kind:
        return ExportInfo(
            guild_id=guild_id,
            guild_name=str(guild.get("name", "")),
            channel_id=_str_or_none(channel.get("categoryId")),
            channel_name=str(channel.get("category") or ""),
            thread_id=channel_id,
        )
    return ExportInfo(
        guild_id=guild_id,
        guild_name=str(guild.get("name", "")),
        channel_id=channel_id,
        channel_name=str(channel.get("name", "")),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _time(value: Any, where: str, message_id: str = "") -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        # Where, built only on the error path: formatting it for every message costs time.
        place = f"{where}: message {message_id}" if message_id else where
        raise ExportError(f"{place}: timestamp {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # DiscordChatExporter writes offsets; be lenient
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def to_message(
    raw: Mapping[str, Any], info: ExportInfo, *, where: str = "export", base: Path | None = None
) -> Message | None:
    """One exported message as a neutral Message; None for system messages.

    `base` is the export file's folder: `--media` file paths are resolved against it.
    """
    # Built for every message of an import: fields read once each, arguments by position.
    get = raw.get
    if get("type", "Default") not in CONTENT_TYPES:
        return None
    try:
        message_id = str(raw["id"])
        author = raw["author"]
        created = _time(raw["timestamp"], where, message_id)
    except KeyError as e:
        raise ExportError(f"{where}: a message lacks {e.args[0]!r}") from None
    edited_at = get("timestampEdited")
    text = message_text(raw, base)
    reference = get("reference")
    # A forward points at the original elsewhere: shown as a forward, not as a reply.
    reply_to = (None if not reference or is_forward(raw)
                else _str_or_none(reference.get("messageId")))
    place = info.thread_id or info.channel_id
    reactions = get("reactions")
    handle = author.get("name")
    who = Author(PLATFORM, str(author.get("id", "")), str(author.get("nickname") or handle or ""),
                 _str_or_none(handle), bool(author.get("isBot", False)))
    edited = _time(edited_at, where, message_id) if edited_at else None
    return Message(
        PLATFORM, message_id, who, text, created, reply_to, info.thread_id, info.channel_id,
        edited, sum(int(r.get("count", 0)) for r in reactions) if reactions else 0,
        f"{info.link}/{message_id}" if place else None,
        "message",
        length(get("attachments")),  # uploads, as live; embeds are link previews
        dict(raw),
    )


def parse_export(doc: Mapping[str, Any], *, where: str = "export", base: Path | None = None
                 ) -> list[Message]:
    """An already-loaded export document -> its messages, oldest first as exported."""
    messages = doc.get("messages")
    if not isinstance(messages, list) or not isinstance(doc.get("channel"), Mapping):
        raise ExportError(f"{where}: not a DiscordChatExporter JSON export (no channel/messages)")
    info = export_info(doc.get("guild") or {}, doc["channel"])
    return [m for raw in messages
            if (m := to_message(raw, info, where=where, base=base)) is not None]


def iter_export(source: str | Path | IO[str], *, chunk: int = CHUNK) -> Iterator[Message]:
    """Stream one export file (path or open text file) as Messages, in file order."""
    if isinstance(source, (str, Path)):
        where = str(source)
        with open(source, encoding="utf-8") as fp:
            yield from _iter_stream(fp, where, chunk, Path(source).parent)
    else:
        yield from _iter_stream(source, getattr(source, "name", "export"), chunk, None)


def read_info(path: str | Path, *, chunk: int = CHUNK) -> ExportInfo:
    """Which channel or thread a file holds, reading only its header (files can be huge)."""
    header: dict[str, Any] = {}
    with open(path, encoding="utf-8") as fp:
        for kind, key, value in ExportReader(fp, str(path), chunk).document():
            if kind != "header":
                break
            header[key] = value
            if key == "messages" or ("guild" in header and "channel" in header):
                break
    if not isinstance(header.get("channel"), Mapping):
        raise ExportError(f"{path}: not a DiscordChatExporter JSON export (no channel/messages)")
    return export_info(header.get("guild") or {}, header["channel"])


def iter_exports(sources: Iterable[str | Path]) -> Iterator[Message]:
    """Several exports (a channel and its threads) as one stream of Messages."""
    for source in sources:
        yield from iter_export(source)


def _iter_stream(fp: IO[str], where: str, chunk: int, base: Path | None) -> Iterator[Message]:
    header: dict[str, Any] = {}
    info: ExportInfo | None = None
    pending: list[Mapping[str, Any]] = []  # messages seen before the channel header
    for kind, key, value in ExportReader(fp, where, chunk).document():
        if kind == "header":
            header[key] = value
            continue
        if info is None and isinstance(header.get("channel"), Mapping):
            info = export_info(header.get("guild") or {}, header["channel"])
        if info is None:
            pending.extend(value)
            continue
        for raw in value:
            message = to_message(raw, info, where=where, base=base)
            if message is not None:
                yield message
    if "messages" not in header or not isinstance(header.get("channel"), Mapping):
        raise ExportError(f"{where}: not a DiscordChatExporter JSON export (no channel/messages)")
    if pending:
        info = export_info(header.get("guild") or {}, header["channel"])
        for raw in pending:
            message = to_message(raw, info, where=where, base=base)
            if message is not None:
                yield message


def payload_author(raw: Any) -> str | None:
    """The author id a stored message payload names (`author.id`); None if it names none.

    An export's message and the live adapter's `message_payload` both keep it there.
    Erasure finds an unfinished import's payloads by it (they have no message row yet).
    """
    author = raw.get("author") if isinstance(raw, Mapping) else None
    found = author.get("id") if isinstance(author, Mapping) else None
    return str(found) if isinstance(found, str | int) and not isinstance(found, bool) \
        and str(found) else None


# A user (author, mention, reaction user) by id; a message (or an interaction) by its author.
SHAPE = Shape(ids=("id",), owner_objects=("author", "user"))


def scrub_payload(raw: dict[str, Any], author_id: str) -> dict[str, Any] | None:
    """Someone else's message payload without `author_id`; None if it holds nothing of theirs.

    Their user objects (mentions, reaction users, an interaction's user) and their id
    (`<@id>` in text too) go (bot/platforms/scrubbing.py).
    """
    return scrub(raw, author_id, SHAPE)
