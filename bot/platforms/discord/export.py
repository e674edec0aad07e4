"""DiscordChatExporter JSON exports -> neutral `Message` objects (platform "discord").

An export is one channel: `{"guild": {...}, "channel": {...}, "messages": [...], ...}`.
DiscordChatExporter writes each thread as its own export whose channel is the thread
(type "GuildPublicThread"/"GuildPrivateThread", `categoryId` = the parent channel), so a
chat with question threads arrives as several files; messages from a thread file get
`thread_id` = the thread's id and `channel_id` = its parent, exactly as the live adapter
reports them, so the archive's upserts merge the two.

Exports of busy channels run to hundreds of megabytes, so files are read as a stream: the
small header values are decoded whole and the "messages" array one element at a time.
Parsing is pure: no archive writes here (the archive's importer consumes the iterator).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bot.platforms.discord.export_content import is_forward, message_text
from bot.platforms.payload import length
from bot.platforms.scrubbing import Shape, scrub
from bot.records import Author, Message

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Types that carry something a person (or the host bot) said; joins, pins, "started a
# thread", boosts and calls do not, and are kept out of the chat (never answers).
CONTENT_TYPES = frozenset({"Default", "Reply", "ChatInputCommand", "ContextMenuCommand"})
CHUNK = 1 << 16


class ExportError(ValueError):
    """The file is not a usable DiscordChatExporter JSON export (message says where and why)."""


@dataclass(frozen=True)
class ExportInfo:
    """Which channel (or thread) an export holds."""

    guild_id: str | None
    guild_name: str
    channel_id: str | None  # the chat channel: for a thread export, its parent
    channel_name: str
    thread_id: str | None = None  # set when the export is of a thread


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
    if raw.get("type", "Default") not in CONTENT_TYPES:
        return None
    try:
        message_id = str(raw["id"])
        author = raw["author"]
        created = _time(raw["timestamp"], where, message_id)
    except KeyError as e:
        raise ExportError(f"{where}: a message lacks {e.args[0]!r}") from None
    edited_at = raw.get("timestampEdited")
    text = message_text(raw, base)
    reference = raw.get("reference")
    # A forward points at the original elsewhere: shown as a forward, not as a reply.
    reply_to = (None if not reference or is_forward(raw)
                else _str_or_none(reference.get("messageId")))
    place = info.thread_id or info.channel_id
    guild = info.guild_id if info.guild_id not in (None, "0") else "@me"
    reactions = raw.get("reactions")
    handle = author.get("name")
    return Message(
        platform=PLATFORM,
        id=message_id,
        author=Author(
            platform=PLATFORM,
            id=str(author.get("id", "")),
            name=str(author.get("nickname") or handle or ""),
            handle=_str_or_none(handle),
            is_bot=bool(author.get("isBot", False)),
        ),
        text=text,
        created=created,
        reply_to=reply_to,
        thread_id=info.thread_id,
        channel_id=info.channel_id,
        edited=_time(edited_at, where, message_id) if edited_at else None,
        reactions=sum(int(r.get("count", 0)) for r in reactions) if reactions else 0,
        url=f"https://discord.com/channels/{guild}/{place}/{message_id}" if place else None,
        media=length(raw.get("attachments")),  # uploads, as live; embeds are link previews
        raw=dict(raw),
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
        for kind, key, value in _Reader(fp, str(path), chunk).document():
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
    for kind, key, value in _Reader(fp, where, chunk).document():
        if kind == "header":
            header[key] = value
            continue
        if info is None and isinstance(header.get("channel"), Mapping):
            info = export_info(header.get("guild") or {}, header["channel"])
        if info is None:
            pending.append(value)
            continue
        message = to_message(value, info, where=where, base=base)
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


class _Reader:
    """Incremental reader for `{"key": value, ..., "messages": [ {...}, ... ], ...}`."""

    def __init__(self, fp: IO[str], where: str, chunk: int) -> None:
        self.fp, self.where, self.chunk = fp, where, chunk
        self.buf, self.pos, self.eof = "", 0, False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        data = self.fp.read(self.chunk)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def _peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def _expect(self, *chars: str) -> str:
        found = self._peek()
        if found not in chars:
            shown = repr(found) if found else "end of file"
            raise ExportError(
                f"{self.where}: malformed JSON, expected {' or '.join(chars)}, got {shown}"
            )
        self.pos += 1
        return found

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if self._fill():
                    continue
                raise ExportError(f"{self.where}: malformed JSON ({e.msg})") from None
            # A number cut by the chunk boundary decodes "successfully": read on to be sure.
            if end == len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return value

    def document(self) -> Iterator[tuple[str, str, Any]]:
        self._expect("{")
        if self._peek() == "}":
            return
        while True:
            key = self._value()
            if not isinstance(key, str):
                raise ExportError(f"{self.where}: malformed JSON, expected a key")
            self._expect(":")
            if key == "messages" and self._peek() == "[":
                self.pos += 1
                yield "header", key, []
                if self._peek() == "]":
                    self.pos += 1
                else:
                    while True:
                        yield "message", key, self._value()
                        if self._expect(",", "]") == "]":
                            break
            else:
                yield "header", key, self._value()
            if self._expect(",", "}") == "}":
                return


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
