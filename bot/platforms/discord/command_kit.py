"""What every /chat command shares: the deadline, the chat, the moderator, the reply.

Answering within Discord's deadline, finding the chat a command is about, telling
moderators from members, and replying privately.

Discord drops an interaction that is not answered within 3 seconds. Every command therefore
calls `begin()` before anything that touches the archive, the network or the disk: it
defers (Discord shows "thinking...") and the real answer follows as a follow-up, however
long the work takes. Work that is slow and needs nothing of the event loop (parsing a
script, writing a file) runs in a worker thread; the archive and the live hosts belong to
the loop, so their short calls stay on it, after the answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.platforms.discord.messages import MAX_LENGTH, discord_time

if TYPE_CHECKING:
    from bot.platforms.base import BotControl
    from bot.platforms.discord.scheduled_events import ScheduleMirror

log = logging.getLogger(__name__)

OPEN_COMMANDS = "`/chat next`, `/chat join` and `/chat leave` are open to everyone."


class DiscordChat(Protocol):
    """What the commands need of a chat's Discord adapter (without importing it)."""

    channel_id: int
    guild: discord.Guild | None
    mirror: ScheduleMirror | None
    reminder_role: discord.Role | None

    def is_moderator(self, member: discord.Member) -> bool:
        """Whether `member` moderates this chat (its moderator role or permissions)."""
        ...


class Refusal(Exception):
    """A command cannot go ahead: the message is shown to the caller only."""


def clip(text: str) -> str:
    """`text` cut to fit one Discord message."""
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 2] + " …"


class CommandKit(commands.Cog):
    """The helpers the /chat command groups are built on (mixed into the one cog).

    A Cog only so that discord.py's decorators accept the command groups' methods; the
    groups are never added alone, only as parts of ChatCommands.
    """

    bot: BotControl  # the running bot, through its narrow control surface

    async def begin(self, interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
        """Answer Discord now (a deferred reply), so no later work can miss the deadline."""
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)

    def platforms(self) -> dict[str, DiscordChat]:
        """Chat id -> its Discord adapter, for every chat that runs on Discord."""
        found: dict[str, DiscordChat] = {}
        for chat_id, runtime in self.bot.chats.items():
            platform = runtime.platforms.get("discord")
            if platform is not None:
                found[chat_id] = platform  # type: ignore[assignment]
        return found

    def resolve(self, interaction: discord.Interaction, chat: str | None) -> str:
        """The chat a command is about: named, else the one served in this channel."""
        if chat:
            if chat not in self.bot.chats:
                raise Refusal(f"There is no chat `{chat}`; `/chat list` shows the loaded chats.")
            return chat
        here = {interaction.channel_id, getattr(interaction.channel, "parent_id", None)}
        matches = [cid for cid, p in self.platforms().items() if p.channel_id in here]
        if len(matches) == 1:
            return matches[0]
        if len(self.bot.chats) == 1:
            return next(iter(self.bot.chats))
        if not self.bot.chats:
            raise Refusal("No chat is loaded yet; a moderator can add one with `/chat load`.")
        raise Refusal("Several chats are loaded; name one with the `chat` option.")

    def is_moderator(self, interaction: discord.Interaction) -> bool:
        """Whether the caller moderates here: a chat's role, the configured role, or perms."""
        member = interaction.user
        if not isinstance(member, discord.Member):
            return False  # a DM: nobody moderates from there
        for platform in self.platforms().values():
            here = platform.guild is not None and platform.guild.id == member.guild.id
            if here and platform.is_moderator(member):
                return True
        role_name = self.bot.settings.discord.moderator_role
        if role_name and any(r.name == role_name or str(r.id) == role_name for r in member.roles):
            return True
        return bool(interaction.permissions.manage_messages)

    async def guard(self, interaction: discord.Interaction, command: str) -> bool:
        """True for a moderator; otherwise refuse politely, privately, and log it."""
        if self.is_moderator(interaction):
            return True
        user = interaction.user
        log.warning("refused /chat %s from %s (%s): not a moderator", command, user.name, user.id)
        self.bot.archive.audit(
            actor=f"discord:{user.id}", action=f"refused /chat {command}",
            # The actor names them by id: `forget discord:ID` finds the row by it, where a
            # name in the words would outlive the erasure of someone who never posted.
            target=str(interaction.channel_id or ""), detail="not a moderator",
            at=self.bot.clock.now(),
        )
        await self.reply(
            interaction, f"Sorry, `/chat {command}` is for the chat's moderators. {OPEN_COMMANDS}"
        )
        return False

    async def reply(self, interaction: discord.Interaction, text: str, *,
                    ephemeral: bool = True, **extra: Any) -> None:
        """Say `text` to the caller: the answer, or the follow-up once deferred."""
        kwargs = {"ephemeral": ephemeral, "allowed_mentions": discord.AllowedMentions.none(),
                  **extra}
        if interaction.response.is_done():
            await interaction.followup.send(clip(text), **kwargs)
        else:
            await interaction.response.send_message(clip(text), **kwargs)

    def next_line(self, chat_id: str) -> str:
        """One line for a chat: title, hashtag, id and when it next runs (in the reader's time)."""
        from bot.schedule import occurrences

        runtime = self.bot.chats[chat_id]
        script = runtime.script
        live = self.bot.live_session(chat_id)
        found = occurrences(script, self.bot.clock.now(), 1)
        if live is not None:
            when = "live now"
        elif found:
            when = f"{discord_time(found[0].start, 'F')} ({discord_time(found[0].start, 'R')})"
        else:
            when = "not scheduled"
        return f"**{script.title}** {script.hashtag} (`{chat_id}`): {when}"

    def finished(self, interaction: discord.Interaction, chat: str | None,
                 session: int | None) -> Any:
        """The session named, or the chat's latest finished one."""
        archive = self.bot.archive
        if session is not None:
            try:
                return archive.session(session)
            except KeyError:
                raise Refusal(f"There is no session {session}.") from None
        chat_id = self.resolve(interaction, chat)
        ended = archive.sessions(chat_id=chat_id, statuses=("ended",))
        if not ended:
            raise Refusal(f"`{chat_id}` has no finished session yet.")
        return ended[-1]

    async def chat_choices(self, interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
        """Autocomplete for the `chat` option: the loaded chats' ids."""
        return [app_commands.Choice(name=cid, value=cid) for cid in sorted(self.bot.chats)
                if current.lower() in cid][:25]
