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
from collections.abc import Callable, Iterable, Iterator, Mapping
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
# Bounds on what a message may say (a hostile file): times that later arithmetic (sessions,
# zones) cannot overflow, counts that fit SQLite's integers.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_REACTIONS = 1_000_000_000
# Authors met while reading one file, each built once and shared by all their messages
# (a few thousand people write a chat's 100,000 messages); emptied past this many, so a
# file of a million one-message authors holds no more than this at once.
MAX_AUTHORS = 10_000
Authors = dict[tuple[str, str, str | None, bool], Author]
# Whether a run of messages (the character in the file where it begins, its elements) is
# to be made into Messages here: a reader of part of a file passes over the others' runs.
TakeRun = Callable[[int, list[Any]], bool]


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
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # DiscordChatExporter writes offsets; be lenient
        parsed = parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is not None and EARLIEST < parsed < LATEST:
        return parsed
    # Where, built only on the error path: formatting it for every message costs time.
    place = f"{where}: {message_name(message_id)}" if message_id else where
    why = "is not ISO 8601" if parsed is None else \
        f"is not between {EARLIEST.year} and {LATEST.year}"
    raise ExportError(f"{place}: timestamp {_shown(value)} {why}") from None


def message_name(message_id: object) -> str:
    """`message ID` for an error's one line.

    An id holding a control (a newline) is shown escaped, so the line stays one line.
    """
    text = str(message_id)[:40]
    return f"message {text if text.isprintable() else _shown(text)}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def to_message(
    raw: Mapping[str, Any], info: ExportInfo, *, where: str = "export", base: Path | None = None,
    authors: Authors | None = None,
) -> Message | None:
    """One exported message as a neutral Message; None for system messages.

    `base` is the export file's folder: `--media` file paths are resolved against it.
    `authors`, kept from message to message, lets a file's messages by one author share
    one Author. Raises ExportError (naming the file, the message and what is wrong) for a
    message whose fields are not what DiscordChatExporter writes.
    """
    try:
        return _to_message(raw, info, where, base, {} if authors is None else authors)
    except ExportError:
        raise
    except (AttributeError, TypeError, ValueError, OverflowError):
        # Checked here, after the fact: the common path pays nothing for the checks.
        raise ExportError(f"{where}: {what_is_wrong(raw)}") from None


def _to_message(raw: Mapping[str, Any], info: ExportInfo, where: str, base: Path | None,
                authors: Authors) -> Message | None:
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
    key = (str(author.get("id", "")), str(author.get("nickname") or handle or ""),
           _str_or_none(handle), bool(author.get("isBot", False)))
    who = authors.get(key)
    if who is None:
        if len(authors) >= MAX_AUTHORS:
            authors.clear()
        who = authors[key] = Author(PLATFORM, *key)
    edited = _time(edited_at, where, message_id) if edited_at else None
    return Message(
        PLATFORM, message_id, who, text, created, reply_to, info.thread_id, info.channel_id,
        edited, _reactions(reactions) if reactions else 0,
        f"{info.link}/{message_id}" if place else None,
        "message",
        length(get("attachments")),  # uploads, as live; embeds are link previews
        raw if type(raw) is dict else dict(raw),  # a decoded message is the reader's no more
    )


def _reactions(reactions: Any) -> int:
    total = 0
    for reaction in reactions:
        count = int(reaction.get("count", 0))
        if not 0 <= count <= MAX_REACTIONS:
            raise ValueError("reaction count out of range")
        total += count
    return total


def what_is_wrong(raw: Any) -> str:
    """What in one exported message is not as DiscordChatExporter writes it (one phrase)."""
    if not isinstance(raw, Mapping):
        return f"a message is {_shown(raw)}, not a JSON object"
    message_id = raw.get("id")
    if not isinstance(message_id, str | int) or isinstance(message_id, bool):
        return f"a message's id is {_shown(message_id)}, not a string"
    name = message_name(message_id)
    if not isinstance(raw.get("type", "Default"), str):
        return f"{name}: type is not a string"
    for key in ("author", "reference", "forwardedMessage"):
        if raw.get(key) is not None and not isinstance(raw.get(key), Mapping):
            return f"{name}: {key} is not a JSON object"
    for key in ("attachments", "stickers", "embeds", "reactions"):
        if raw.get(key) and not isinstance(raw.get(key), list):
            return f"{name}: {key} is not a JSON array"
    for reaction in raw.get("reactions") or ():
        if not isinstance(reaction, Mapping):
            return f"{name}: a reaction is not a JSON object"
        if not _count_ok(reaction.get("count", 0)):
            return (f"{name}: reaction count {_shown(reaction.get('count'))} is not a whole "
                    f"number from 0 to {MAX_REACTIONS:,}")
    return f"{name}: a field is not as DiscordChatExporter writes it"


def _count_ok(value: Any) -> bool:
    try:
        return 0 <= int(value) <= MAX_REACTIONS
    except (TypeError, ValueError, OverflowError):
        return False


def parse_export(doc: Mapping[str, Any], *, where: str = "export", base: Path | None = None
                 ) -> list[Message]:
    """An already-loaded export document -> its messages, oldest first as exported."""
    messages = doc.get("messages")
    if not isinstance(messages, list) or not isinstance(doc.get("channel"), Mapping):
        raise ExportError(f"{where}: not a DiscordChatExporter JSON export (no channel/messages)")
    info = export_info(_guild(doc, where), doc["channel"])
    return [m for raw in messages
            if (m := to_message(raw, info, where=where, base=base)) is not None]


def iter_export(source: str | Path | IO[str], *, chunk: int = CHUNK,
                take: TakeRun | None = None) -> Iterator[Message]:
    """Stream one export file (path or open text file) as Messages, in file order.

    With `take`, only the messages of the runs it takes (see TakeRun); every run is still
    read, so where each begins is the same for every reader of the file.
    """
    if isinstance(source, (str, Path)):
        where = str(source)
        with open(source, encoding="utf-8") as fp:
            yield from _iter_stream(fp, where, chunk, Path(source).parent, take)
    else:
        yield from _iter_stream(source, getattr(source, "name", "export"), chunk, None, take)


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
    return export_info(_guild(header, str(path)), header["channel"])


def _guild(header: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    guild = header.get("guild") or {}
    if not isinstance(guild, Mapping):
        raise ExportError(f"{where}: guild is {_shown(guild)}, not a JSON object")
    return guild


def iter_exports(sources: Iterable[str | Path]) -> Iterator[Message]:
    """Several exports (a channel and its threads) as one stream of Messages."""
    for source in sources:
        yield from iter_export(source)


def _iter_stream(fp: IO[str], where: str, chunk: int, base: Path | None,
                 take: TakeRun | None = None) -> Iterator[Message]:
    header: dict[str, Any] = {}
    info: ExportInfo | None = None
    pending: list[Mapping[str, Any]] = []  # messages seen before the channel header
    reader = ExportReader(fp, where, chunk)
    authors: Authors = {}
    for kind, key, value in reader.document():
        if kind == "header":
            header[key] = value
            continue
        if info is None and isinstance(header.get("channel"), Mapping):
            info = export_info(_guild(header, where), header["channel"])
        if info is None:
            pending.extend(value)
            continue
        if take is not None and not take(reader.run_at, value):
            continue
        yield from _messages(value, info, where, base, reader.messages - len(value), authors)
    if not isinstance(header.get("messages"), list) \
            or not isinstance(header.get("channel"), Mapping):
        raise ExportError(f"{where}: not a DiscordChatExporter JSON export (no channel/messages)")
    # Messages before the channel's header (not DiscordChatExporter's order, but valid JSON)
    # come last, taken as a run beginning at the file's last character.
    if pending and (take is None or take(max(0, reader.base + reader.pos - 1), pending)):
        info = export_info(_guild(header, where), header["channel"])
        yield from _messages(pending, info, where, base, 0, authors)


def _messages(raws: list[Any], info: ExportInfo, where: str, base: Path | None, before: int,
              authors: Authors) -> Iterator[Message]:
    """`raws` as Messages; an error names the message's place in the file (`before` + n)."""
    raw = None
    try:
        for raw in raws:
            message = to_message(raw, info, where=where, base=base, authors=authors)
            if message is not None:
                yield message
    except ExportError as e:
        number = before + next(n for n, seen in enumerate(raws, 1) if seen is raw)
        raise ExportError(f"{e} (message {number:,} of the file)") from None


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
