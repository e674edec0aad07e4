"""/chat commands: a real App on dpytest's guild, interactions as spec_set mocks.

Members, roles and channels are dpytest's real discord.py objects (so "is a moderator"
is decided by discord.py's own permission maths); only the Interaction and its response
are mocks, built with spec_set from the real classes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import discord
import pytest

from bot.clock import FakeClock
from bot.platforms.discord.commands import COG_NAME, ChatCommands
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_discord_events import interaction, replies
from tests.platforms.conftest import discord_script_text


def cog_of(world: DiscordWorld) -> ChatCommands:
    cog = world.bot.get_cog(COG_NAME)
    assert isinstance(cog, ChatCommands)
    return cog


def only_reply(inter: Any) -> tuple[str, dict[str, Any]]:
    said = replies(inter)
    assert len(said) == 1, said
    return said[0]


def attachment(name: str, text: str) -> Any:
    file = mock.Mock(spec_set=discord.Attachment)
    file.filename = name
    file.size = len(text.encode())
    file.read.return_value = text.encode()
    return file


def audit_rows(app: Any) -> list[dict[str, Any]]:
    return list(app.archive.db["audit_log"].rows)


async def test_starting_the_bot_publishes_the_chat_commands(
    world: DiscordWorld, discord_app: Any
) -> None:
    await discord_app()
    (published,) = world.published_commands[world.guild.id]
    assert published["name"] == "chat"
    names = {option["name"] for option in published["options"]}
    assert names == {"list", "load", "start", "pause", "resume", "skip", "extend", "stop",
                     "transcript", "next", "join", "leave", "certificate", "role"}


MODERATOR_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list", {}),
    ("load", {"script": None}),
    ("start", {"chat": None, "pace": None}),
    ("pause", {"chat": None}),
    ("resume", {"chat": None}),
    ("skip", {"chat": None}),
    ("extend", {"minutes": 5, "chat": None}),
    ("stop", {"chat": None}),
    ("transcript", {"chat": None, "session": None}),
]


@pytest.mark.parametrize(("command", "kwargs"), MODERATOR_CALLS,
                         ids=[c for c, _ in MODERATOR_CALLS])
async def test_ordinary_members_are_refused_politely_and_logged(
    world: DiscordWorld, discord_app: Any, command: str, kwargs: dict[str, Any]
) -> None:
    app = await discord_app()
    cog = cog_of(world)
    inter = interaction(world, world.ann)
    attr = {"list": "list_"}.get(command, command)
    await getattr(cog, attr).callback(cog, inter, **kwargs)
    text, options = only_reply(inter)
    assert text.startswith(f"Sorry, `/chat {command}` is for the chat's moderators.")
    assert options["ephemeral"] is True
    (row,) = audit_rows(app)
    assert row["actor"] == f"discord:{world.ann.id}" and row["action"] == f"refused /chat {command}"
    assert app.archive.sessions() == []  # nothing happened


async def test_a_member_with_manage_messages_is_a_moderator_without_the_role(
    world: DiscordWorld, discord_app: Any
) -> None:
    await discord_app()
    import discord.ext.test as dpytest

    await dpytest.set_permission_overrides(world.ann, world.chat, manage_messages=True)
    cog = cog_of(world)
    inter = interaction(world, world.ann)
    await cog.list_.callback(cog, inter)
    text, _ = only_reply(inter)
    assert text.startswith("**Test chat** #TestChat (`test`): <t:")


async def test_moderator_runs_a_session_start_pause_resume_extend_skip_stop(
    world: DiscordWorld, discord_app: Any
) -> None:
    clock = FakeClock()
    app = await discord_app(clock=clock)
    cog = cog_of(world)

    async def run(name: str, **kwargs: Any) -> str:
        inter = interaction(world, world.ben)
        await getattr(cog, name).callback(cog, inter, **kwargs)
        text, options = only_reply(inter)
        assert options["ephemeral"] is True
        return text

    assert await run("start", chat=None, pace=None) == "Started session 1 of `test`, live."
    session = app.archive.session(1)
    assert not session.rehearsal and session.status in ("scheduled", "live")
    assert await run("pause") == "test: paused: nothing more is posted until resume"
    assert await run("pause") == "the session is already paused; use resume"  # ControlError
    assert (await run("resume")).startswith("test: resumed:")
    assert await run("extend", minutes=5) == "test: extended: remaining posts moved 5 min later"
    assert (await run("skip")).startswith("test: skip:")
    assert await run("stop") == "test: stop: remaining questions skipped, the close goes out now"
    log = [e["detail"] for e in app.archive.session_log(1) if e["kind"].startswith("control:")]
    assert all(d.endswith("(by discord:ben)") for d in log) and len(log) == 5


async def test_start_with_a_pace_is_a_rehearsal(world: DiscordWorld, discord_app: Any) -> None:
    app = await discord_app(clock=FakeClock())
    cog = cog_of(world)
    inter = interaction(world, world.ben)
    await cog.start.callback(cog, inter, chat=None, pace=60.0)
    text, _ = only_reply(inter)
    assert text == "Started session 1 of `test`, a rehearsal at pace 60."
    session = app.archive.session(1)
    assert session.rehearsal and session.pace == 60


async def test_control_with_nothing_live_and_unknown_chat_are_plain_answers(
    world: DiscordWorld, discord_app: Any
) -> None:
    await discord_app()
    cog = cog_of(world)
    inter = interaction(world, world.ben)
    await cog.pause.callback(cog, inter, chat=None)
    assert only_reply(inter)[0] == "no session of 'test' is live right now"  # the channel's chat
    inter = interaction(world, world.ben)
    await cog.start.callback(cog, inter, chat="nope", pace=None)
    assert only_reply(inter)[0] == "There is no chat `nope`; `/chat list` shows the loaded chats."


async def test_next_is_open_to_everyone_and_uses_discord_timestamps(
    world: DiscordWorld, discord_app: Any
) -> None:
    clock = FakeClock()  # Wednesday 2026-01-07 20:00 UTC: the chat is on now
    app = await discord_app(clock=clock)
    clock.advance(3600)  # an hour later: the next one is a week away
    cog = cog_of(world)
    inter = interaction(world, world.ann, channel=world.elsewhere)
    await cog.next_.callback(cog, inter, chat=None)
    text, _ = only_reply(inter)
    start = app.upcoming()[0].start
    assert start - clock.now() > timedelta(days=6)
    assert text == (f"**Test chat** #TestChat (`test`): <t:{int(start.timestamp())}:F> "
                    f"(<t:{int(start.timestamp())}:R>)")


async def test_join_and_leave_store_the_reminder_opt_in(
    world: DiscordWorld, discord_app: Any
) -> None:
    await discord_app()
    cog = cog_of(world)
    platform = cog.platforms()["test"]
    assert platform.mirror is not None
    inter = interaction(world, world.ann)
    await cog.join.callback(cog, inter, chat=None)
    assert only_reply(inter)[0].startswith("You'll get a reminder before **Test chat**.")
    assert platform.mirror.opted_in() == [str(world.ann.id)]
    inter = interaction(world, world.ann)
    await cog.leave.callback(cog, inter, chat=None)
    assert only_reply(inter)[0] == "No more reminders for **Test chat**."
    assert platform.mirror.opted_in() == []


async def test_load_saves_a_valid_script_and_reloads(
    world: DiscordWorld, discord_app: Any, tmp_path: Path
) -> None:
    app = await discord_app(from_dir=True)
    cog = cog_of(world)
    text = discord_script_text(world, chat_id="second").replace("Test chat", "Second chat")
    inter = interaction(world, world.ben)
    await cog.load.callback(cog, inter, script=attachment("second.yml", text))
    reply, options = only_reply(inter)
    assert reply.startswith("Loaded `second.yaml`. **Second chat** #TestChat (`second`): <t:")
    assert options["ephemeral"] is True
    assert (tmp_path / "chats" / "second.yaml").read_text() == text
    assert set(app.chats) == {"test", "second"}
    assert "discord" in app.chats["second"].platforms


async def test_load_shows_every_problem_with_its_line_to_the_caller_only(
    world: DiscordWorld, discord_app: Any, tmp_path: Path
) -> None:
    app = await discord_app(from_dir=True)
    cog = cog_of(world)
    broken = discord_script_text(world, chat_id="broken").replace(
        'hashtag: "#TestChat"', "hashtag: TestChat").replace("host: Host", "hots: Host")
    inter = interaction(world, world.ben)
    await cog.load.callback(cog, inter, script=attachment("broken.yaml", broken))
    reply, options = only_reply(inter)
    assert options["ephemeral"] is True
    assert reply.startswith("broken.yaml was not loaded:\n```\n")
    lines = reply.split("```")[1].strip().splitlines()
    assert any(line.startswith("broken.yaml:3: ") for line in lines)  # the hashtag
    assert "broken.yaml:5: unknown key 'hots'; did you mean 'hosts'?" in lines
    assert not (tmp_path / "chats" / "broken.yaml").exists()
    assert set(app.chats) == {"test"}


async def test_load_refuses_a_file_that_is_not_yaml(world: DiscordWorld, discord_app: Any) -> None:
    await discord_app(from_dir=True)
    cog = cog_of(world)
    inter = interaction(world, world.ben)
    file = attachment("notes.txt", "hello")
    await cog.load.callback(cog, inter, script=file)
    assert only_reply(inter)[0] == "notes.txt: a chat script is a .yaml file; attach that."
    file.read.assert_not_called()


async def test_transcript_posts_the_html_and_markdown_files(
    world: DiscordWorld, discord_app: Any
) -> None:
    app = await discord_app(clock=FakeClock())
    cog = cog_of(world)
    inter = interaction(world, world.ben)
    await cog.transcript.callback(cog, inter, chat=None, session=None)
    text, options = only_reply(inter)
    assert text == "`test` has no finished session yet." and options["ephemeral"] is True
    inter.delete_original_response.assert_awaited_once()  # the public "thinking..." is gone

    script = app.chats["test"].script
    session_id = app.archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=app.clock.now(), duration_minutes=5, platforms=["discord"],
        items=script.timeline(), host_name="Host")
    app.archive.update_session(session_id, status="ended", ended_at=app.clock.now())
    inter = interaction(world, world.ben)
    await cog.transcript.callback(cog, inter, chat=None, session=None)
    inter.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    call = inter.followup.send.await_args
    assert call.args[0].startswith("Transcript of **Test chat** (<t:")
    assert sorted(f.filename for f in call.kwargs["files"]) == ["transcript.html", "transcript.md"]


async def test_a_command_in_a_question_thread_finds_its_chat(
    world: DiscordWorld, discord_app: Any
) -> None:
    app = await discord_app()
    question = await world.chat.send("Q1")
    thread = await question.create_thread(name="Q1")
    cog = cog_of(world)
    inter = interaction(world, world.ben, channel=thread)
    assert cog.resolve(inter, None) == "test"
    assert set(app.chats) == {"test"}


async def test_certificate_is_sent_privately_to_the_member_or_a_moderator(
    world: DiscordWorld, discord_app: Any
) -> None:
    from bot.records import Author, Event, Message

    app = await discord_app(clock=FakeClock())
    cog = cog_of(world)
    script = app.chats["test"].script
    session_id = app.archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=app.clock.now(), duration_minutes=5, platforms=["discord"],
        items=script.timeline(), host_name="Host")
    said = Message("discord", "901", Author("discord", str(world.ann.id), "Ann"),
                   "A1 listening events on every ward", app.clock.now())
    app.archive.record_events([Event("created", "discord", "901", said.created, said)],
                              session_id=session_id, chat_id="test")
    app.archive.update_session(session_id, status="ended", ended_at=app.clock.now())

    inter = interaction(world, world.ann)  # Ann, her own
    await cog.certificate.callback(cog, inter, chat=None, session=None, member=None)
    inter.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text, kwargs = only_reply(inter)
    assert kwargs["ephemeral"] is True and text.startswith("CPD certificate for **")
    page = kwargs["file"].fp.read().decode()
    assert kwargs["file"].filename == f"certificate-{world.ann.id}.html"
    assert "listening events on every ward" in page and "Reflective account" in page

    inter = interaction(world, world.ann)  # Ann asking for Ben's: refused, privately
    await cog.certificate.callback(cog, inter, chat=None, session=None, member=world.ben)
    text, kwargs = only_reply(inter)
    assert "for the chat's moderators" in text and kwargs["ephemeral"] is True

    inter = interaction(world, world.ben)  # Ben (a moderator) asking for Ann's
    await cog.certificate.callback(cog, inter, chat=None, session=None, member=world.ann)
    assert "listening events" in only_reply(inter)[1]["file"].fp.read().decode()

    inter = interaction(world, world.ben)  # Ben's own: he posted nothing
    await cog.certificate.callback(cog, inter, chat=None, session=session_id, member=None)
    assert "posted nothing public" in only_reply(inter)[0]


async def test_role_is_declared_from_the_chats_list(world: DiscordWorld, discord_app: Any
                                                    ) -> None:
    app = await discord_app()
    cog = cog_of(world)
    inter = interaction(world, world.ann)
    await cog.role.callback(cog, inter, role="nurse", chat=None)
    assert only_reply(inter)[0] == "Your role in `test`: **Nurse**."
    assert app.archive.roles("test") == {("discord", str(world.ann.id)): "Nurse"}
    inter = interaction(world, world.ann)
    await cog.role.callback(cog, inter, role="Astronaut", chat=None)
    text, kwargs = only_reply(inter)
    assert text.startswith("`Astronaut` is not one of this chat's roles") and kwargs["ephemeral"]
    inter = interaction(world, world.ann)
    await cog.role.callback(cog, inter, role=None, chat=None)
    assert app.archive.roles("test") == {}
    choices = await cog.role_choices(interaction(world, world.ann), "mid")
    assert [c.value for c in choices] == ["Midwife"]
