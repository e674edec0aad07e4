"""DiscordChatExporter JSON -> neutral Messages, on a small export written here."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.discord.export import (
    ExportError,
    iter_export,
    iter_exports,
    parse_export,
)

GUILD = {"id": "900", "name": "NHS Comms", "iconUrl": "https://cdn.example/icon.png"}
CHANNEL = {
    "id": "100",
    "type": "GuildTextChat",
    "categoryId": "50",
    "category": "Chats",
    "name": "nhssm",
    "topic": "Wednesdays 8pm",
}
THREAD = {
    "id": "1002",  # a thread opened from message 1002 shares its id
    "type": "GuildPublicThread",
    "categoryId": "100",
    "category": "nhssm",
    "name": "Q1",
    "topic": None,
}


def author(uid: str, name: str, nickname: str | None = None, bot: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "name": name,
        "discriminator": "0000",
        "nickname": nickname or name,
        "color": None,
        "isBot": bot,
        "roles": [],
        "avatarUrl": "https://cdn.example/a.png",
    }


def message(mid: str, content: str, who: dict[str, Any], ts: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "type": "Default",
        "timestamp": ts,
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": who,
        "attachments": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": [],
        "inlineEmojis": [],
        **extra,
    }


HOST = author("1", "tweetchatbot", "Tweetchat", bot=True)
ANN = author("2", "ann", "Ann (comms)")
BEN = author("3", "ben")

CHANNEL_EXPORT = {
    "guild": GUILD,
    "channel": CHANNEL,
    "dateRange": {"after": None, "before": None},
    "exportedAt": "2026-01-08T09:00:00+00:00",
    "messages": [
        message("1001", "Welcome to #NHSSM", HOST, "2026-01-07T20:00:00.120+00:00"),
        message("1002", "Q1 What do you use social media for?", HOST, "2026-01-07T20:05:00+00:00"),
        {
            **message("1003", "", HOST, "2026-01-07T20:05:01+00:00"),
            "type": "ThreadCreated",
            "reference": {"messageId": "1002", "channelId": "100", "guildId": "900"},
        },
        message(
            "1004",
            "A1 sharing vacancies",
            ANN,
            "2026-01-07T21:06:00+01:00",
            timestampEdited="2026-01-07T20:07:30+00:00",
            reactions=[
                {"emoji": {"name": "👍"}, "count": 3},
                {"emoji": {"name": "🎉"}, "count": 1},
            ],
        ),
        {
            **message("1005", "A1 agree with Ann", BEN, "2026-01-07T20:08:00+00:00"),
            "type": "Reply",
            "reference": {"messageId": "1004", "channelId": "100", "guildId": "900"},
        },
        message(
            "1006",
            "",
            BEN,
            "2026-01-07T20:09:00+00:00",
            attachments=[
                {
                    "id": "7",
                    "url": "https://cdn.example/chart.png",
                    "fileName": "chart.png",
                    "fileSizeBytes": 1234,
                }
            ],
        ),
    ],
    "messageCount": 6,
}

THREAD_EXPORT = {
    "guild": GUILD,
    "channel": THREAD,
    "dateRange": {"after": None, "before": None},
    "exportedAt": "2026-01-08T09:00:00+00:00",
    "messages": [
        message("2001", "A1 patient feedback", BEN, "2026-01-07T20:06:00+00:00"),
        {
            **message("2002", "A1 same here", ANN, "2026-01-07T20:06:30+00:00"),
            "type": "Reply",
            "reference": {"messageId": "2001", "channelId": "1002", "guildId": "900"},
        },
    ],
    "messageCount": 2,
}


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_channel_export_becomes_neutral_messages() -> None:
    messages = parse_export(CHANNEL_EXPORT)
    assert [m.id for m in messages] == ["1001", "1002", "1004", "1005", "1006"]  # no system msgs
    welcome, _question, answer, reply, picture = messages
    assert welcome.platform == "discord" and welcome.author.is_bot
    assert welcome.created == datetime(2026, 1, 7, 20, 0, 0, 120000, tzinfo=UTC)
    assert welcome.channel_id == "100" and welcome.thread_id is None
    assert welcome.url == "https://discord.com/channels/900/100/1001"
    assert answer.author.name == "Ann (comms)" and answer.author.handle == "ann"
    assert answer.created == datetime(2026, 1, 7, 20, 6, tzinfo=UTC)  # +01:00 -> UTC
    assert answer.edited == datetime(2026, 1, 7, 20, 7, 30, tzinfo=UTC)
    assert answer.reactions == 4
    assert reply.reply_to == "1004" and answer.reply_to is None
    assert picture.text == "[file: chart.png] https://cdn.example/chart.png"
    assert reply.raw["reference"]["messageId"] == "1004"  # the exported payload, verbatim


def test_thread_export_sets_thread_and_parent_channel(tmp_path: Path) -> None:
    messages = list(iter_export(write(tmp_path, "thread.json", THREAD_EXPORT)))
    assert [(m.id, m.thread_id, m.channel_id) for m in messages] == [
        ("2001", "1002", "100"),
        ("2002", "1002", "100"),
    ]
    assert messages[1].reply_to == "2001"
    assert messages[0].url == "https://discord.com/channels/900/1002/2001"


def test_a_channel_and_its_threads_read_together(tmp_path: Path) -> None:
    paths = [
        write(tmp_path, "channel.json", CHANNEL_EXPORT),
        write(tmp_path, "q1.json", THREAD_EXPORT),
    ]
    messages = list(iter_exports(paths))
    assert len(messages) == 7
    in_thread = {m.id for m in messages if m.thread_id == "1002"}
    assert in_thread == {"2001", "2002"}
    assert {m.id for m in messages if m.id == "1002"} == {"1002"}  # the thread's starter post


def test_streaming_matches_whole_file_parse_across_tiny_chunks(tmp_path: Path) -> None:
    text = json.dumps(CHANNEL_EXPORT, ensure_ascii=False)
    streamed = list(iter_export(io.StringIO(text), chunk=7))
    assert streamed == parse_export(CHANNEL_EXPORT)


def test_streaming_is_lazy() -> None:
    # The messages array is never closed: a streaming reader still yields what came before.
    text = json.dumps(CHANNEL_EXPORT)
    cut = text[: text.index('"1004"')]
    stream = iter_export(io.StringIO(cut), chunk=64)
    assert next(stream).id == "1001"
    assert next(stream).id == "1002"
    with pytest.raises(ExportError, match="malformed JSON"):
        list(stream)


def test_messages_before_the_channel_header_still_work() -> None:
    reordered = {"messages": THREAD_EXPORT["messages"], "guild": GUILD, "channel": THREAD}
    messages = list(iter_export(io.StringIO(json.dumps(reordered))))
    assert [m.thread_id for m in messages] == ["1002", "1002"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"guild": {}, "channel": {"id": "1"}}', "not a DiscordChatExporter JSON export"),
        ('{"messages": []}', "not a DiscordChatExporter JSON export"),
        ("[1, 2]", "malformed JSON, expected {"),
        (
            ('{"guild": {}, "channel": {"id": "1"}, "messages": [{"id": "1", "author": {},'
            ' "timestamp": "yesterday"}]}'),
            "message 1: timestamp 'yesterday' is not ISO 8601",
        ),
        ('{"guild": {}, "channel": {"id": "1"}, "messages": [{"id": "1"}]}', "lacks 'author'"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError) as err:
        list(iter_export(path))
    assert str(err.value).startswith(str(path)) and expected in str(err.value)
    assert "\n" not in str(err.value)


# --- what DiscordChatExporter writes beside the content -----------------------------------


def one(raw: dict[str, Any], tmp_path: Path | None = None) -> Any:
    doc = {**CHANNEL_EXPORT, "messages": [raw]}
    if tmp_path is None:
        (m,) = parse_export(doc)
        return m
    (m,) = list(iter_export(write(tmp_path, "chat.json", doc)))
    return m


TS = "2026-01-07T20:10:00+00:00"


def test_a_sticker_only_message_shows_the_sticker() -> None:
    m = one(message("3001", "", ANN, TS, stickers=[
        {"id": "55", "name": "Wave", "format": "Png",
         "sourceUrl": "https://media.discordapp.net/stickers/55.png"}]))
    assert m.text == "[sticker: Wave] https://media.discordapp.net/stickers/55.png"


def test_attachments_show_name_and_link_and_media_paths_resolve_next_to_the_export(
    tmp_path: Path,
) -> None:
    files = [{"id": "8", "url": "chat.json_Files/rota%20plan-1A2B.pdf", "fileName": "rota plan.pdf",
              "fileSizeBytes": 10}]
    m = one(message("3002", "our rota", ANN, TS, attachments=files), tmp_path)
    expected = tmp_path.resolve() / "chat.json_Files" / "rota plan-1A2B.pdf"
    assert m.text == f"our rota\n[file: rota plan.pdf] {expected}"
    assert m.raw["attachments"][0]["url"] == "chat.json_Files/rota%20plan-1A2B.pdf"  # raw kept


def test_embeds_show_title_and_link_without_repeating_a_typed_link() -> None:
    rich = {"title": "Q2", "url": None, "description": "What stops staff posting?",
            "fields": [], "images": [], "inlineEmojis": []}
    preview = {"title": "NHS social media guidance", "url": "https://www.nhs.uk/guide",
               "description": "", "fields": [], "images": [], "inlineEmojis": []}
    bot_post = one(message("3003", "", HOST, TS, embeds=[rich]))
    assert bot_post.text == "[link: Q2]\nWhat stops staff posting?"
    shared = one(message("3004", "see https://www.nhs.uk/guide", ANN, TS, embeds=[preview]))
    assert shared.text == "see https://www.nhs.uk/guide\n[link: NHS social media guidance]"
    linked = one(message("3005", "", ANN, TS, embeds=[{**preview, "url": "https://x.org/a"}]))
    assert linked.text == "[link: NHS social media guidance] https://x.org/a"


def test_a_forward_is_shown_as_a_forward_not_threaded_as_a_reply() -> None:
    forward = {
        **message("3006", "", BEN, TS),
        "reference": {"type": "Forward", "messageId": "999", "channelId": "555",
                      "guildId": "900"},
        "forwardedMessage": {"timestamp": TS, "timestampEdited": None,
                             "content": "Trust policy: never post patient stories",
                             "attachments": [], "embeds": [], "stickers": []},
    }
    m = one(forward)
    assert m.text == "[forwarded] Trust policy: never post patient stories"
    assert m.reply_to is None


@pytest.mark.parametrize("kind", ["GuildMemberJoin", "ChannelPinnedMessage", "ThreadCreated",
                                  "ThreadStarterMessage", "Call", "RecipientAdd"])
def test_system_messages_are_kept_out(kind: str) -> None:
    doc = {**CHANNEL_EXPORT, "messages": [{**message("3007", "joined", ANN, TS), "type": kind}]}
    assert parse_export(doc) == []


def test_bot_command_replies_are_messages() -> None:
    m = one({**message("3008", "Q3 Next question", HOST, TS), "type": "ChatInputCommand"})
    assert m.text == "Q3 Next question"


def test_an_authors_messages_share_one_author_and_the_authors_held_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.platforms.discord import export

    monkeypatch.setattr(export, "MAX_AUTHORS", 3)  # a file of many authors: few held at once
    people = [author(str(700 + n), f"user{n}", nickname=f"Nick {n}") for n in range(4)]
    order = [0, 0, 1, 1, 2, 3, 0]  # the fourth person lets the first three go
    raws = [message(str(5000 + i), f"m{i}", people[p], f"2025-01-22T20:{i:02d}:00+00:00")
            for i, p in enumerate(order)]
    raws.append(message("5100", "renamed", author("700", "user0", nickname="Renamed"),
                        "2025-01-22T20:30:00+00:00"))
    path = write(tmp_path, "chat.json", {"guild": GUILD, "channel": CHANNEL, "messages": raws})
    got = list(iter_export(path))
    assert [(m.author.id, m.author.name, m.author.handle) for m in got] == [
        *[(str(700 + p), f"Nick {p}", f"user{p}") for p in order], ("700", "Renamed", "user0")]
    assert got[0].author is got[1].author and got[2].author is got[3].author
    assert got[1].author is not got[2].author
    assert got[6].author is not got[0].author  # let go past MAX_AUTHORS, built again
    assert got[6].author == got[0].author
    assert got[7].author is not got[6].author  # a new name is a new Author
