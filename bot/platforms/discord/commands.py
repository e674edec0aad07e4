"""The /chat slash commands: moderators run the chat from Discord, everyone can ask when.

Moderator commands (the configured moderator role, or Manage Messages in the chat's
channel; bot/platforms/discord/session_commands.py): list, load, start, pause, resume, skip,
extend, stop, transcript. Everyone (member_commands.py): next, join, leave, role (declare
yours: patient, nurse, ...; shown as a badge in the transcript), and certificate (your own
CPD certificate, privately; a moderator may ask for a member's). A member who tries a
moderator command is told so privately, and the attempt is logged and written to the
archive's audit log.

Every command answers Discord at once (a deferred reply) and follows up when its work is
done, so none misses Discord's 3-second deadline (command_kit.py). Replies that only concern
the caller (errors, refusals, lists) are ephemeral; a transcript is posted for everyone.
The cog drives the bot exactly as the CLI and the web room do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.platforms.discord.command_kit import CommandKit
from bot.platforms.discord.member_commands import MemberCommands
from bot.platforms.discord.session_commands import SessionCommands

if TYPE_CHECKING:
    from bot.platforms.base import BotControl

log = logging.getLogger(__name__)

COG_NAME = "ChatCommands"


class ChatCommands(SessionCommands, MemberCommands, commands.GroupCog, name=COG_NAME,
                   group_name="chat", group_description="Run and follow the scheduled chats"):
    """The one /chat group: the moderators' and the members' commands, for all the chats."""

    def __init__(self, bot: BotControl) -> None:
        self.bot = bot  # the running bot, through its narrow control surface
        self.synced: set[int] = set()  # guilds whose command list is up to date
        super().__init__()

    # Autocomplete of the chat option, on every command that has one.
    for _cmd in (MemberCommands.next_, MemberCommands.join, MemberCommands.leave,
                 SessionCommands.start, SessionCommands.pause, SessionCommands.resume,
                 SessionCommands.skip, SessionCommands.extend, SessionCommands.stop,
                 SessionCommands.transcript, MemberCommands.certificate, MemberCommands.role):
        _cmd.autocomplete("chat")(CommandKit.chat_choices)
    del _cmd


async def install(client: discord.Client, control: BotControl, guild: discord.Guild) -> None:
    """Add the /chat commands to the client and publish them to this server.

    Once per bot: one cog answers for all of its chats, finding each command's chat from
    the channel or the `chat` option.

    Commands are synced per server, which Discord applies at once (global commands take up
    to an hour). A bot invited without the applications.commands scope still hosts chats;
    it just has no slash commands, and the log says how to fix that.
    """
    if not isinstance(client, commands.Bot):
        log.warning("discord: the client is not a commands.Bot; /chat commands are off")
        return
    cog = client.get_cog(COG_NAME)
    if isinstance(cog, ChatCommands) and cog.bot is not control:
        # Left by a bot that used this client before: it must not answer for this one.
        await _remove(client, cog)
        cog = None
    if cog is None:
        cog = ChatCommands(control)
        await client.add_cog(cog)
    assert isinstance(cog, ChatCommands)
    if guild.id in cog.synced:
        return
    try:
        client.tree.copy_global_to(guild=guild)
        await client.tree.sync(guild=guild)
    except (discord.HTTPException, app_commands.AppCommandError, discord.ClientException) as exc:
        log.warning(
            "discord: could not publish /chat commands in '%s' (%s); re-invite the bot with "
            "the applications.commands scope (see docs/discord.md)", guild.name, exc)
        return
    cog.synced.add(guild.id)


async def uninstall(client: discord.Client, control: BotControl) -> None:
    """Take the bot's /chat commands off the client (its last Discord chat has stopped)."""
    if not isinstance(client, commands.Bot):
        return
    cog = client.get_cog(COG_NAME)
    if isinstance(cog, ChatCommands) and cog.bot is control:
        await _remove(client, cog)


async def _remove(client: commands.Bot, cog: ChatCommands) -> None:
    await client.remove_cog(COG_NAME)
    # discord.py's remove_cog takes the cog's name ("ChatCommands") out of the command tree,
    # not its group's ("chat"); without this the group, bound to the old cog, would stay.
    group = cog.app_command
    if group is not None:
        client.tree.remove_command(group.name)
        for guild_id in cog.synced:
            client.tree.remove_command(group.name, guild=discord.Object(id=guild_id))
