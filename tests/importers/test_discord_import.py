"""`import discord`: DiscordChatExporter files -> a session attributed as if hosted live."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.platforms.discord.export import ExportError
from bot.platforms.discord.importer import import_discord
from bot.script import ChatScript, load_script
from tests.conftest import no_settings, write_script

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)  # a Wednesday 20:00 in London (GMT)
GUILD = {"id": "900", "name": "NHS Comms"}
CHANNEL = {"id": "100", "type": "GuildTextChat", "categoryId": "50", "category": "Chats",
           "name": "nhssm"}


def thread_channel(thread_id: str, name: str) -> dict[str, Any]:
    return {"id": thread_id, "type": "GuildPublicThread", "categoryId": "100",
            "category": "nhssm", "name": name}


def author(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": uid, "name": name, "discriminator": "0000", "nickname": name.title(),
            "isBot": bot, "roles": []}


BOT = author("1", "tweetchat", bot=True)
ANN, BEN, CARA = author("11", "ann"), author("12", "ben"), author("13", "cara")


def msg(mid: int, minute: float, who: dict[str, Any], content: str,
        reply_to: int | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": str(mid), "type": "Reply" if reply_to else "Default",
        "timestamp": (START + timedelta(minutes=minute)).isoformat(),
        "timestampEdited": None, "isPinned": False, "content": content, "author": who,
        "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": [],
    }
    if reply_to:
        raw["reference"] = {"messageId": str(reply_to), "channelId": "100", "guildId": "900"}
    return raw


def export(path: Path, channel: dict[str, Any], messages: list[dict[str, Any]]) -> Path:
    doc = {"guild": GUILD, "channel": channel, "dateRange": {"after": None, "before": None},
           "exportedAt": "2026-01-08T09:00:00+00:00", "messages": messages,
           "messageCount": len(messages)}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def script(tmp_path: Path) -> ChatScript:
    return load_script(write_script(tmp_path / "chats"))


@pytest.fixture
def exports(tmp_path: Path) -> list[Path]:
    channel = [
        msg(1000, 0, BOT, "Welcome to the test chat."),
        msg(1001, 0.5, ANN, "hello all"),
        msg(1002, 1, BOT, "Q1 First question?"),  # opened thread 1002
        msg(1003, 1.5, BEN, "A1 in the channel #TestChat"),
        msg(1004, 2, BOT, "Q2 Second question?"),
        msg(1005, 2.2, CARA, "reply to the second question", reply_to=1004),
        msg(1006, 2.4, ANN, "agreed with cara", reply_to=1005),
        msg(1007, 3, BOT, "Q3 Third question?"),
        msg(1008, 3.5, BEN, "A3 short and sweet"),
        msg(1009, 4, BOT, "Thanks all."),
    ]
    thread = [
        {**msg(2000, 1.05, BOT, ""), "type": "ThreadStarterMessage"},  # a system message
        msg(2001, 1.2, CARA, "my answer inside the thread"),
        msg(2002, 1.3, ANN, "and a reply in the thread", reply_to=2001),
    ]
    # The thread file first: files may come in any order.
    return [export(tmp_path / "q1-thread.json", thread_channel("1002", "Q1 First question?"),
                   thread),
            export(tmp_path / "chat.json", CHANNEL, channel)]


def by_id(archive: Archive, session_id: int) -> dict[str, Any]:
    return {m.id: m for m in archive.messages(session_id)}


def snapshot(archive: Archive) -> dict[str, list[Any]]:
    return {table: list(archive.db[table].rows)
            for table in ("sessions", "items", "posts", "messages", "participants")}


def test_an_export_becomes_a_session_attributed_as_if_hosted_live(
    tmp_path: Path, script: ChatScript, exports: list[Path]
) -> None:
    archive = Archive(tmp_path / "archive.db")
    ticks: list[int] = []
    report = import_discord(archive, exports, script, progress=ticks.append)
    assert (report.messages, report.host_posts, len(report.sessions)) == (12, 5, 1)
    assert sum(ticks) == report.read == 12 and report.bad_lines == []
    (sid,) = report.sessions
    session = archive.session(sid)
    assert session.status == "ended" and session.scheduled_start == START
    items = {i.key: i for i in archive.items(sid)}
    assert all(i.status == "sent" for i in items.values())
    assert items["q1"].refs == {"discord": "1002"} and items["q1"].threads == {"discord": "1002"}

    m = by_id(archive, sid)
    assert (m["2001"].question, m["2001"].method) == (1, "thread")
    assert (m["2002"].question, m["2002"].thread_id) == (1, "1002")
    assert (m["1003"].question, m["1003"].method) == (1, "tag")
    assert (m["1005"].question, m["1005"].method) == (2, "reply")
    assert (m["1006"].question, m["1006"].reply_to) == (2, "1005")
    assert (m["1008"].question, m["1008"].method) == (3, "tag")
    assert m["1001"].section == "welcome"
    assert all(m[i].is_host for i in ("1000", "1002", "1004", "1007", "1009"))
    assert m["1002"].author_name == "Tweetchat" and not m["1003"].is_host


def test_importing_the_same_files_twice_changes_nothing(
    tmp_path: Path, script: ChatScript, exports: list[Path]
) -> None:
    archive = Archive(tmp_path / "archive.db")
    first = import_discord(archive, exports, script)
    before = snapshot(archive)
    second = import_discord(archive, list(reversed(exports)), script)
    assert second.sessions == first.sessions and second.changed == 0
    assert snapshot(archive) == before


def test_a_human_host_named_in_the_script_is_the_host(
    tmp_path: Path, script: ChatScript
) -> None:
    host = author("20", "host")  # the script's host is "Host"; no bot involved
    path = export(tmp_path / "chat.json", CHANNEL, [
        msg(3000, 0, host, "Welcome to the test chat."),
        msg(3001, 1, host, "Q1 First question?"),
        msg(3002, 1.5, ANN, "A1 yes"),
        msg(3003, 4, host, "Thanks all."),
    ])
    archive = Archive(tmp_path / "archive.db")
    report = import_discord(archive, [path], script, bots_are_hosts=False)
    assert report.host_posts == 3
    m = by_id(archive, report.sessions[0])
    assert m["3002"].question == 1 and m["3001"].is_host


def test_a_file_that_is_not_an_export_is_one_line_naming_it(
    tmp_path: Path, script: ChatScript
) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": "world"}', encoding="utf-8")
    archive = Archive(tmp_path / "archive.db")
    with pytest.raises(ExportError, match=r"notes\.json: not a DiscordChatExporter JSON export"):
        import_discord(archive, [bad], script)
    with pytest.raises(ExportError, match=r"missing\.json: file not found"):
        import_discord(archive, [tmp_path / "missing.json"], script)


# --- the command ------------------------------------------------------------------------------


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"TWEETCHAT_ARCHIVE": str(tmp_path / "archive.db"),
            "TWEETCHAT_CONFIG": str(no_settings(tmp_path)), "COLUMNS": "120"}


def cli() -> Any:
    from bot.cli import app

    return app


def test_import_discord_command_prints_a_summary(
    tmp_path: Path, exports: list[Path], script: ChatScript
) -> None:
    from typer.testing import CliRunner

    args = ["import", "discord", *map(str, exports), "--script", str(script.path)]
    result = CliRunner().invoke(cli(), args, env=cli_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Messages read" in result.output and "12" in result.output
    rows = {line.strip(" │").split("│")[0].strip(): line.strip(" │").split("│")[-1].strip()
            for line in result.output.splitlines() if line.count("│") >= 3}
    assert rows["Messages read"] == "12" and rows["Host posts"] == "5"
    assert rows["Sessions"] == "1 (id 1)" and rows["Files"] == "2"
    archive = Archive(tmp_path / "archive.db")
    assert len(archive.sessions(chat_id="test")) == 1


def test_import_discord_command_mistakes_are_user_errors(
    tmp_path: Path, exports: list[Path], script: ChatScript
) -> None:
    from typer.testing import CliRunner

    from bot.terminal import UserError

    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    runner = CliRunner()
    for files, expected in (
        ([tmp_path / "gone.json"], "gone.json: file not found; check the path"),
        ([bad], ("bad.json: malformed JSON, expected {, got '['; export the channel with "
                 "DiscordChatExporter in JSON format (--format Json)")),
    ):
        result = runner.invoke(cli(), ["import", "discord", *map(str, files), "--script",
                                       str(script.path)], env=cli_env(tmp_path))
        assert isinstance(result.exception, UserError)
        assert str(result.exception).endswith(expected)


def test_files_from_different_channels_are_refused_saying_which(
    tmp_path: Path, script: ChatScript, exports: list[Path]
) -> None:
    other = {**CHANNEL, "id": "200", "name": "general"}
    stray = export(tmp_path / "general.json", other, [msg(5000, 1, ANN, "A1 wrong room")])
    archive = Archive(tmp_path / "archive.db")
    with pytest.raises(ExportError, match=r"the files hold 2 channels \(#nhssm \(100\): "
                       r"q1-thread\.json, chat\.json; #general \(200\): general\.json\)"):
        import_discord(archive, [*exports, stray], script)
    assert list(archive.db["messages"].rows) == []
