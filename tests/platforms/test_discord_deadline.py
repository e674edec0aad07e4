"""Every /chat command answers Discord before any slow work (issue 16, finding 5).

Discord drops an interaction not answered within 3 seconds. Here every piece of work a
command can do (reloading, starting a session, rendering, downloading the script, giving a
role, writing to the archive, controlling the host) is recorded with whether the
interaction had already been answered, and the slow ones wait on a gate that the test opens
only after checking the answer went out. Opening the gate then takes 5 seconds of fake
time, so an answer sent after the work is refused by the fake interaction, as by Discord.
The commands are read from the registered /chat group, so a new command is checked too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from unittest import mock

import discord
import discord.ext.test.backend as dback
import pytest

from bot.clock import FakeClock
from bot.platforms.discord.commands import COG_NAME, ChatCommands
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_discord_events import interaction, replies
from tests.platforms.conftest import discord_script_text

COMMANDS = ["list", "load", "start", "pause", "resume", "skip", "extend", "stop",
            "transcript", "next", "join", "leave", "certificate", "role"]
SLOW_SECONDS = 5.0  # what each slow piece of work costs, in fake time


class Gate:
    """Records work as it starts; slow work then waits until the test opens the gate."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.inter: Any = None
        self.work: list[tuple[str, bool]] = []  # (what, was the interaction answered)
        self.reached = asyncio.Event()
        self.open = asyncio.Event()

    def _record(self, what: str) -> None:
        self.work.append((what, bool(self.inter.response.is_done())))

    def sync(self, what: str, real: Callable[..., Any]) -> Callable[..., Any]:
        """A quick call on the loop, recorded."""

        def call(*args: Any, **kwargs: Any) -> Any:
            self._record(what)
            return real(*args, **kwargs)

        return call

    def slow(self, what: str, real: Callable[..., Any]) -> Callable[..., Any]:
        """A slow awaited call: recorded, held until the gate opens, then 5 s long."""

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._record(what)
            self.reached.set()
            await self.open.wait()
            self.clock.advance(SLOW_SECONDS)
            return await real(*args, **kwargs)

        return call


def gate_everything(app: Any, world: DiscordWorld, gate: Gate,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("reload", "start_session"):
        monkeypatch.setattr(app, name, gate.slow(name, getattr(app, name)))
    monkeypatch.setattr(app, "control", gate.sync("control", app.control))
    for name in ("publish", "certificate"):
        monkeypatch.setattr(app.publisher, name, gate.slow(name, getattr(app.publisher, name)))
    for name in ("audit", "set_role", "session", "sessions"):
        monkeypatch.setattr(app.archive, name, gate.sync(name, getattr(app.archive, name)))
    for name in ("add_roles", "remove_roles"):
        monkeypatch.setattr(discord.Member, name, gate.slow(name, getattr(discord.Member, name)))
    mirror = app.chats["test"].platforms["discord"].mirror
    monkeypatch.setattr(mirror, "set_opt_in", gate.sync("set_opt_in", mirror.set_opt_in))


def script_attachment(world: DiscordWorld, gate: Gate) -> Any:
    text = discord_script_text(world, chat_id="second").replace("Test chat", "Second chat")
    file = mock.Mock(spec_set=discord.Attachment)
    file.filename = "second.yaml"
    file.size = len(text.encode())

    async def download() -> bytes:
        return text.encode()

    file.read.side_effect = gate.slow("download", download)
    return file


def arguments(command: Any, world: DiscordWorld, gate: Gate) -> dict[str, Any]:
    values = {"chat": None, "pace": None, "minutes": 5, "session": None, "member": None,
              "role": "nurse", "script": script_attachment(world, gate)}
    params = {p.name: p for p in command.parameters}
    unknown = [n for n, p in params.items() if p.required and n not in values]
    assert not unknown, f"/chat {command.name}: give the test a value for {unknown}"
    return {name: values[name] for name in params if name in values}


async def with_ended_session(app: Any) -> None:
    script = app.chats["test"].script
    sid = app.archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=app.clock.now(), duration_minutes=5, platforms=["discord"],
        items=script.timeline(), host_name="Host")
    app.archive.update_session(sid, status="ended", ended_at=app.clock.now())


# join and leave also run with a reminder role, where opting in is a request to Discord.
CASES = [(name, False) for name in COMMANDS] + [("join", True), ("leave", True)]


@pytest.mark.parametrize("caller", ["moderator", "member"])
@pytest.mark.parametrize(("name", "reminder_role"), CASES,
                         ids=[n + (" with a reminder role" if r else "") for n, r in CASES])
async def test_every_command_answers_before_its_slow_work(
    world: DiscordWorld, discord_app: Any, monkeypatch: pytest.MonkeyPatch, name: str,
    caller: str, reminder_role: bool,
) -> None:
    clock = FakeClock()
    app = await discord_app(clock=clock, from_dir=True)
    await with_ended_session(app)
    cog = world.bot.get_cog(COG_NAME)
    assert isinstance(cog, ChatCommands) and cog.app_command is not None
    registered = {c.name: c for c in cog.app_command.commands}
    assert sorted(registered) == sorted(COMMANDS)  # a new command needs a row here
    if reminder_role:
        role = dback.make_role("Chat reminders", world.guild)
        monkeypatch.setattr(app.chats["test"].platforms["discord"], "reminder_role", role)
    gate = Gate(clock)
    gate_everything(app, world, gate, monkeypatch)
    member = world.ben if caller == "moderator" else world.ann
    gate.inter = inter = interaction(world, member, clock=clock)
    command = registered[name]

    task = asyncio.create_task(command.callback(cog, inter, **arguments(command, world, gate)))
    reached = asyncio.create_task(gate.reached.wait())
    await asyncio.wait({task, reached}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    assert task.done() or gate.reached.is_set(), f"/chat {name} neither finished nor worked"
    assert inter.response.is_done(), f"/chat {name} did work before answering Discord"
    assert all(answered for _, answered in gate.work), (name, gate.work)
    gate.open.set()
    await asyncio.wait_for(task, 30)  # an answer after the 5 s of work would raise 404 here
    reached.cancel()
    assert replies(inter), f"/chat {name} never said anything after deferring"
