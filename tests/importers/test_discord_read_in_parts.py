"""A DiscordChatExporter export read by two readers stores exactly what one reader stores.

`import discord` shares a big export between two forked readers (bot/importers/parts.py):
both read every run of messages (only reading finds where a message ends), each makes
messages of the runs beginning in its own chunks, and the parent takes their batches back
in file order. Whatever the chunk sizes (of the parts, and of the reads that make runs),
the layout (DiscordChatExporter's indented JSON or compact), look-alike boundaries inside
messages, system messages, a payload too deep to store, several files (a channel and its
thread), the archive, the report and the errors must be one reader's.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.importers.common as common
import bot.platforms.discord.importer as discord_importer
from bot.archive import Archive
from bot.importers.parts import Part
from bot.platforms.discord.export import ExportError, iter_export
from bot.platforms.discord.importer import import_discord
from bot.script import ChatScript, load_script
from tests.conftest import write_script
from tests.importers.equivalence_fixtures import dump
from tests.importers.test_discord_import import (
    ANN,
    BEN,
    BOT,
    CARA,
    CHANNEL,
    GUILD,
    msg,
    thread_channel,
)
from tests.importers.test_read_in_parts import _in_parts, command_reads_with_two_readers


def _deep() -> Any:
    """Deeper than a payload can be stored: its message is a bad line, named by its number."""
    deep: Any = "bottom"
    for _ in range(300):
        deep = [deep]
    return deep


def _answer(mid: int, minute: float, who: dict[str, Any], text: str) -> dict[str, Any]:
    """An answer; every tenth or so nested too deep to store (bad lines in every part)."""
    raw = msg(mid, minute, who, text)
    if mid % 11 == 3:
        raw["embeds"] = [{"fields": _deep()}]
    return raw


def channel_messages() -> list[dict[str, Any]]:
    """The channel's file: the host bot's items, answers, and what splitting could get wrong."""
    deep = _deep()
    return [
        msg(1000, 0, BOT, "Welcome to the test chat."),
        msg(1001, 0.5, ANN, "hello all"),
        {**msg(1010, 0.6, ANN, ""), "type": "GuildMemberJoin"},  # a system message
        msg(1002, 1, BOT, "Q1 First question?"),  # opened thread 1002
        msg(1003, 1.5, BEN, 'A1 text that looks like a boundary: },{"id":"9","type":"x"'),
        # Nested objects that begin as a message does: a run cut after one is not whole.
        {**msg(1011, 1.6, CARA, "A1 with embeds"),
         "embeds": [{"id": "1", "type": "rich"}, {"id": "2", "type": "rich"}]},
        msg(1004, 2, BOT, "Q2 Second question?"),
        msg(1005, 2.2, CARA, "reply to the second question", reply_to=1004),
        {**msg(1012, 2.3, BEN, "A2 deep"), "embeds": [{"fields": deep}]},
        {**msg(1006, 2.4, ANN, "agreed with cara, edited", reply_to=1005),
         "timestampEdited": "2026-01-07T20:05:00+00:00",
         "reactions": [{"emoji": {"id": None, "name": "👍"}, "count": 3}]},
        msg(1007, 3, BOT, "Q3 Third question?"),
        *[_answer(1100 + i, 3.1 + i / 100, [ANN, BEN, CARA][i % 3], f"A3 answer number {i}")
          for i in range(40)],
        {**msg(1008, 3.5, BEN, "A3 with a file"),
         "attachments": [{"id": "5", "url": "https://cdn.example/a.png", "fileName": "a.png",
                          "fileSizeBytes": 10}]},
        msg(1009, 4, BOT, "Thanks all."),
    ]


def thread_messages() -> list[dict[str, Any]]:
    return [
        {**msg(2000, 1.05, BOT, ""), "type": "ThreadStarterMessage"},
        msg(2001, 1.2, CARA, "my answer inside the thread"),
        *[_answer(2100 + i, 1.3 + i / 100, [ANN, BEN][i % 2], f"thread answer {i}")
          for i in range(20)],
        # The same posts again (overlapping exports): the first of each is kept.
        msg(1002, 1, BOT, "Q1 First question?"),
        msg(1001, 0.5, ANN, "hello all, once more"),
    ]


def expected_bad(*files: list[dict[str, Any]]) -> list[int]:
    """The numbers of the messages too deep to store, counting as one reader counts."""
    bad, number = [], 0
    for messages in files:
        for raw in messages:
            if raw["type"] not in ("Default", "Reply"):
                continue  # a system message is no message
            number += 1
            if "fields" in str(raw.get("embeds"))[:20]:
                bad.append(number)
    return bad


def write_export(path: Path, channel: dict[str, Any], messages: list[dict[str, Any]],
                 indent: int | None) -> Path:
    doc = {"guild": GUILD, "channel": channel, "dateRange": {"after": None, "before": None},
           "exportedAt": "2026-01-08T09:00:00+00:00", "messages": messages,
           "messageCount": len(messages)}
    separators = None if indent else (",", ":")
    path.write_text(json.dumps(doc, indent=indent, separators=separators,
                               ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def script(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats"))


def _files(folder: Path, indent: int | None, channel: list[dict[str, Any]] | None = None
           ) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_export(folder / "channel.json", CHANNEL,
                     channel_messages() if channel is None else channel, indent),
        write_export(folder / "thread.json", thread_channel("1002", "Q1"), thread_messages(),
                     indent),
    ]


def _import(tmp_path: Path, name: str, files: list[Path], script: ChatScript,
            monkeypatch: pytest.MonkeyPatch, *, chunk: int | None, run_chars: int,
            fork: bool = False) -> dict[str, Any]:
    """Import `files` twice: read whole in this process, or by two readers in `chunk`s.

    `run_chars` is the export reader's read size, which decides how many messages a run
    holds (the default, 64 KB, would make these small files one run each).
    """
    used: list[bool] = []
    with monkeypatch.context() as patch:
        patch.setattr(discord_importer, "iter_export", partial(iter_export, chunk=run_chars))
        if chunk is None:
            patch.setattr(common, "READ_IN_CHILD_FROM", 1 << 62)
        else:
            _in_parts(patch, chunk, fork=fork, used=used)
        archive = Archive(tmp_path / f"{name}.db")
        try:
            reports, dumps = [], []
            for _ in range(2):
                r = import_discord(archive, files, script)
                reports.append((r.read, r.messages, r.changed, r.bad_lines, r.sessions,
                                r.host_posts, r.skipped))
                dumps.append(dump(archive))
        finally:
            archive.close()
    assert used == ([fork, fork] if chunk else [])
    return {"reports": reports, "dumps": dumps}


@pytest.mark.parametrize("chunk", [1, 300, 2000, 9000, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_two_readers_store_what_one_stores(tmp_path: Path, script: ChatScript,
                                           monkeypatch: pytest.MonkeyPatch, chunk: int,
                                           indent: int | None) -> None:
    files = _files(tmp_path / "in", indent)
    one = _import(tmp_path, "one", files, script, monkeypatch, chunk=None, run_chars=256)
    two = _import(tmp_path, "two", files, script, monkeypatch, chunk=chunk, run_chars=256)
    assert two == one
    read, messages, _, bad, sessions, hosts, _ = one["reports"][0]
    assert len(sessions) == 1 and hosts > 0 and messages > 60  # the files are rich
    # The payloads too deep to store, by their numbers in file order (system messages
    # make none), by any number of readers, in both files.
    assert bad == expected_bad(channel_messages(), thread_messages())
    assert len(bad) >= 6 and bad[0] == 8 and bad[-1] > len(channel_messages())


def test_two_forked_readers_store_what_one_stores(tmp_path: Path, script: ChatScript,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(tmp_path / "in", 2)
    one = _import(tmp_path, "one", files, script, monkeypatch, chunk=None, run_chars=512)
    two = _import(tmp_path, "two", files, script, monkeypatch, chunk=1500, run_chars=512,
                  fork=True)
    assert two == one


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kept=st.lists(st.integers(0, len(channel_messages()) - 1), min_size=1, max_size=25),
       chunk=st.integers(1, 12_000), run_chars=st.sampled_from([16, 100, 700, 1 << 16]),
       indent=st.sampled_from([None, 2]), fork=st.booleans())
def test_any_messages_any_chunk_and_run_size(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        kept: list[int], chunk: int, run_chars: int, indent: int | None, fork: bool) -> None:
    tmp_path = tmp_path_factory.mktemp("parts")
    every = channel_messages()
    script = load_script(write_script(tmp_path / "chats"))
    files = _files(tmp_path / "in", indent, [every[i] for i in kept])
    one = _import(tmp_path, "one", files, script, monkeypatch, chunk=None,
                  run_chars=run_chars)
    two = _import(tmp_path, "two", files, script, monkeypatch, chunk=chunk,
                  run_chars=run_chars, fork=fork)
    assert two == one


def test_a_bot_met_by_the_other_reader_is_still_the_host(
        tmp_path: Path, script: ChatScript, monkeypatch: pytest.MonkeyPatch) -> None:
    """Host names grow as bots are met: in file order, whichever reader makes their messages.

    The bot posts only in the first half (reader 0's chunk); someone whose name is the bot's
    id posts in the second (reader 1's). One reader takes them for the host once the bot
    was met; so must two, each in its own process with its own names.
    """
    namesake = {**ANN, "id": "55", "name": BOT["id"], "nickname": BOT["id"]}
    messages = [msg(1000, 0, BOT, "Welcome to the test chat."),
                msg(1002, 1, BOT, "Q1 First question?"),
                *[msg(1100 + i, 1.5 + i / 100, BEN, f"A1 filler {i}") for i in range(60)],
                msg(1200, 3, namesake, "Thanks all.")]
    files = _files(tmp_path / "in", 2, messages)[:1]
    one = _import(tmp_path, "one", files, script, monkeypatch, chunk=None, run_chars=512)
    half = files[0].stat().st_size // 2
    two = _import(tmp_path, "two", files, script, monkeypatch, chunk=half, run_chars=512,
                  fork=True)
    assert two == one
    assert one["reports"][0][5] == 3  # the namesake's post counted as the host's


def test_a_file_grown_since_the_import_began_is_one_error(tmp_path: Path) -> None:
    """The readers' chunks are counted in the size taken at the start: past it, refused."""
    files = _files(tmp_path / "in", None)
    sizes = [path.stat().st_size for path in files]
    parsed = discord_importer._parsed(files, [sizes[0] // 2, sizes[1]], set(), True,
                                      lambda n: None)
    with pytest.raises(ExportError, match="changed while it was read"):
        list(parsed)
    assert len(list(discord_importer._parsed(files, sizes, set(), True, lambda n: None))) > 60


@pytest.mark.parametrize("part", [None, Part(0, 2, 4096), Part(1, 2, 4096)])
def test_a_file_cut_short_since_the_import_began_is_one_error(tmp_path: Path,
                                                              part: Part | None) -> None:
    """Cut mid-JSON (read as broken JSON) or rewritten whole but shorter: both say so."""
    files = _files(tmp_path / "in", None)
    sizes = [path.stat().st_size for path in files]
    whole = files[0].read_bytes()
    for cut in (whole[:len(whole) // 2], whole.replace(b"answer number", b"answer")):
        files[0].write_bytes(cut)
        parsed = discord_importer._parsed(files, sizes, set(), True, lambda n: None, part)
        with pytest.raises(ExportError, match="changed while it was read"):
            list(parsed)
    files[0].write_bytes(whole)
    assert len(list(discord_importer._parsed(files, sizes, set(), True, lambda n: None,
                                             part))) > 20


def _error(tmp_path: Path, name: str, files: list[Path], script: ChatScript,
           monkeypatch: pytest.MonkeyPatch, chunk: int | None) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(discord_importer, "iter_export", partial(iter_export, chunk=256))
        if chunk is None:
            patch.setattr(common, "READ_IN_CHILD_FROM", 1 << 62)
        else:
            _in_parts(patch, chunk, fork=True)
        archive = Archive(tmp_path / f"{name}.db")
        try:
            with pytest.raises(ExportError) as caught:
                import_discord(archive, files, script)
        finally:
            archive.close()
    return str(caught.value)


@pytest.mark.parametrize("chunk", [300, 2000])
def test_a_bad_message_in_either_readers_part_is_the_error_one_reader_gives(
        tmp_path: Path, script: ChatScript, monkeypatch: pytest.MonkeyPatch,
        chunk: int) -> None:
    """Not JSON at all, or a message DiscordChatExporter would not write: the same line."""
    broken = _files(tmp_path / "broken", None)
    text = broken[0].read_text()
    cut = text.index('"A3 answer number 30"')
    broken[0].write_text(text[:cut] + "{oops" + text[cut:])
    bad_time = _files(tmp_path / "bad_time", None, [
        *channel_messages()[:30], {**msg(1300, 3.9, ANN, "A3 late"), "timestamp": "soon"},
        *channel_messages()[30:]])
    for name, files in (("broken", broken), ("bad_time", bad_time)):
        one = _error(tmp_path, f"{name}-one", files, script, monkeypatch, None)
        two = _error(tmp_path, f"{name}-two", files, script, monkeypatch, chunk)
        assert two == one, name
    assert "message 31 of the file" in _error(tmp_path, "again", bad_time, script,
                                              monkeypatch, chunk)


def test_the_command_reads_a_big_export_with_two_readers(tmp_path: Path) -> None:
    """The real CLI on an export over READ_IN_PARTS_FROM: the archive one reader makes."""
    from bench.gen_discord import generate_discord

    data, flat = tmp_path / "export.json", tmp_path / "flat.jsonl"
    generate_discord(12_000, data, flat)
    command_reads_with_two_readers(
        tmp_path, "discord", data,
        lambda archive, path, script: import_discord(archive, [path], script))
