"""The dpytest harness (tests/platforms/conftest.py) behaves like Discord where we rely on it."""

from __future__ import annotations

import discord
import discord.ext.test as dpytest

from bot.testing.fake_discord import DiscordWorld

# --- the harness itself ---------------------------------------------------------------


async def test_history_after_is_exclusive_and_oldest_first(world: DiscordWorld) -> None:
    first = await world.user_message("one")
    second = await world.user_message("two")
    third = await world.user_message("three")
    everything = [m.id async for m in world.chat.history(limit=None, oldest_first=True)]
    assert everything == [first.id, second.id, third.id]
    after_first = [
        m.id async for m in world.chat.history(limit=None, after=first, oldest_first=True)
    ]
    assert after_first == [second.id, third.id]


async def test_reply_reference_survives_send(world: DiscordWorld) -> None:
    question = await world.chat.send("Q1 what is social media for?")
    reply = await world.chat.send("A1", reference=question)
    assert reply.reference is not None and reply.reference.message_id == question.id
    assert dpytest.get_message().content == "Q1 what is social media for?"


async def test_role_overwrites_apply_to_the_role(world: DiscordWorld) -> None:
    assert world.chat.permissions_for(world.guild.me).create_public_threads
    await dpytest.set_permission_overrides(world.bot_role, world.chat, create_public_threads=False)
    assert not world.chat.permissions_for(world.guild.me).create_public_threads
    assert world.elsewhere.permissions_for(world.guild.me).create_public_threads


async def test_thread_from_message_is_cached_like_discord(world: DiscordWorld) -> None:
    question = await world.chat.send("Q1")
    thread = await question.create_thread(name="Q1")
    assert thread.id == question.id and thread.parent_id == world.chat.id
    cached = world.guild.get_thread(thread.id)
    assert cached is not None and cached.name == "Q1"
    answer = await world.user_message("A1 in thread", channel=cached)
    assert isinstance(answer.channel, discord.Thread)
