"""Import DiscordChatExporter JSON exports of past chats into the archive.

A chat held on Discord before the bot existed (or while it was down) is exported with
DiscordChatExporter: the channel, plus one file per question thread. The files stream
through `discord_export` into the shared importer, which rebuilds each session exactly as
if the bot had hosted it: the host's posts become the scripted items, every other message
is attributed (threads, A-tags, replies). Everything is keyed on Discord's ids, so
importing the same files again changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.archive import Archive
from bot.importers.common import ImportReport, Parsed, host_names_for, import_stream, is_host
from bot.importers.parts import Part, Split
from bot.importers.reading import PROGRESS_EVERY
from bot.platforms.discord.export import CONTENT_TYPES, ExportError, iter_export, read_info
from bot.script import ChatScript

if TYPE_CHECKING:
    from bot.moderation.policy import Policy

log = logging.getLogger(__name__)

PLATFORM = "discord"


def _parsed(paths: Sequence[Path], sizes: Sequence[int], host_names: set[str],
            bots_are_hosts: bool, advance: Callable[[int], None], part: Part | None = None
            ) -> Iterator[Parsed]:
    """Messages of every file, numbered across files; `advance` is told every thousand.

    The host is whoever posted for the chat: the script's host, or a bot account. A bot's
    id is added to `host_names` as soon as it is met, before import_stream (which holds the
    same set) asks whether that message is the host's.

    With `part` (one of several readers, bot/importers/parts), only the messages of the
    runs that begin in the part's chunks, numbered as one reader would number them, and
    the bots of the other runs met all the same. `sizes` are the files' sizes when the
    import began: the readers' chunks are counted in them.
    """
    # A thread opened from a message shares its id. The live adapter reports a question
    # post together with the thread it opened, so an imported question post gets it too.
    threads = {info.thread_id for info in map(read_info, paths) if info.thread_id}
    share = _Share(part or Part(0, 1), host_names if bots_are_hosts else None)
    own = 0
    for path, size in zip(paths, sizes, strict=True):
        share.file(path, size)
        try:
            for message in iter_export(path, take=share):
                share.number += 1
                if bots_are_hosts and message.author.is_bot:
                    host_names.add(message.author.id.lower())
                if message.thread_id is None and message.id in threads and is_host(
                    message, host_names
                ):
                    message = replace(message, thread_id=message.id)
                yield Parsed(share.number, message)
                own += 1
                if own % PROGRESS_EVERY == 0:
                    advance(PROGRESS_EVERY)
        except ExportError:
            _not_cut(path, size)  # a file cut short reads as broken JSON: say what happened
            raise
        _not_cut(path, size)
    if own % PROGRESS_EVERY:
        advance(own % PROGRESS_EVERY)


def _not_cut(path: Path, size: int) -> None:
    """Raise ExportError if the file is now shorter than `size`, its size when the import began.

    Rewritten or cut while it was read: what was read may be neither the old file nor the
    new one.
    """
    if path.stat().st_size < size:
        raise _changed_while_read(path)


def _changed_while_read(path: Path) -> ExportError:
    """The error for a file that changed while it was read (grown past, or cut short)."""
    return ExportError(f"{path}: changed while it was read; import it again once it is written")


class _Share:
    """Which runs of the files a part's reader makes into messages, and their numbers.

    A run is the part's when the chunk it begins in is (counted from the first file's
    first byte, files one after another: the same for every reader, as every reader reads
    every run). Whoever reads them, the messages are numbered as one reader numbers them:
    every content message of every run counts, this reader's or not (a run of system
    messages makes none). And with `bots` (the host names, when bots are hosts) the bots
    of every run are met in file order, as one reader meets them: whether a later message
    is the host's never depends on which reader made the bot's.
    """

    def __init__(self, part: Part, bots: set[str] | None = None) -> None:
        self.part = part
        self.bots = bots
        self.path = Path()
        self.file_at = 0  # where the file being read begins, among all the files' bytes
        self.file_end = 0  # and where it ends, as big as it was when the import began
        self.counted = 0  # content messages in every run read so far
        self.number = 0  # the number of the last message made here

    def file(self, path: Path, size: int) -> None:
        """The next file, of `size` bytes when the import began."""
        self.file_at = self.file_end
        self.file_end += size
        self.path = path

    def __call__(self, at: int, raws: list[Any]) -> bool:
        if self.file_at + at >= self.file_end:  # characters never outnumber bytes
            raise _changed_while_read(self.path)
        chunk = (self.file_at + at) // self.part.chunk_bytes
        mine = self.part.owns(chunk)
        if mine:
            self.part.chunk = chunk
            self.number = self.counted
        elif self.bots is not None:
            self.bots.update(_bots(raws))
        self.counted += sum(map(_makes_a_message, raws))
        return mine


def _bots(raws: list[Any]) -> Iterator[str]:
    """The host names the bot authors of these elements' messages add (as `_parsed` does)."""
    for raw in raws:
        if not isinstance(raw, dict) or not _makes_a_message(raw):
            continue
        author = raw.get("author")
        if isinstance(author, dict) and author.get("isBot", False):
            yield str(author.get("id", "")).lower()


def _makes_a_message(raw: Any) -> bool:
    """Whether an exported element becomes a message (or stops the import: then it counts)."""
    try:
        return not isinstance(raw, dict) or raw.get("type", "Default") in CONTENT_TYPES
    except TypeError:  # an unhashable type: the reader of its run stops there
        return True


def _one_channel(files: Sequence[Path]) -> None:
    """A session is one channel and its threads: refuse files of different channels at once.

    Merging two channels' messages would attribute one channel's answers to the other's
    questions; separate imports (one per channel) keep them apart.
    """
    channels: dict[str | None, list[str]] = {}
    names: dict[str | None, str] = {}
    for path in files:
        info = read_info(path)
        channels.setdefault(info.channel_id, []).append(path.name)
        names.setdefault(info.channel_id, info.channel_name)
    if len(channels) > 1:
        listed = "; ".join(f"#{names[c] or '?'} ({c}): {', '.join(paths)}"
                           for c, paths in channels.items())
        raise ExportError(f"the files hold {len(channels)} channels ({listed}); import one "
                          "channel and its threads at a time")


def import_discord(
    archive: Archive,
    paths: Iterable[str | Path],
    script: ChatScript,
    progress: Callable[[int], None] | None = None,
    *,
    extra_hosts: Iterable[str] = (),
    bots_are_hosts: bool = True,
    policy: Policy | None = None,
) -> ImportReport:
    """Import exports (a channel and its thread files, in any order) as sessions of `script`.

    Raises ExportError (one line naming the file) for a file that is not an export, and for
    files of more than one channel (a session is one channel; a question thread belongs to
    its parent channel); the messages already stored stay, and importing again after
    fixing the file is harmless. Messages and names are screened under `policy` (None:
    the built-in one).
    """
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ExportError(f"{path}: file not found; check the path")
    _one_channel(files)
    host_names = host_names_for(script, PLATFORM, extra_hosts)
    sizes = [path.stat().st_size for path in files]
    report = import_stream(
        archive, script,
        lambda advance: _parsed(files, sizes, host_names, bots_are_hosts, advance),
        platform=PLATFORM, host_names=host_names, progress=progress, input_bytes=sum(sizes),
        # Read by several readers at once: each reads every run (only reading finds where
        # one message ends and the next begins) but makes messages of its own runs only,
        # the two thirds of the reading that is not decoding.
        split=Split(lambda advance, part: _parsed(files, sizes, host_names, bots_are_hosts,
                                                  advance, part),
                    lambda set_aside: (), sum(sizes)),
        policy=policy,
    )
    log.info(
        "imported %d Discord messages from %d file(s) into %d session(s) of %s",
        report.messages, len(files), len(report.sessions), script.id,
    )
    return report
