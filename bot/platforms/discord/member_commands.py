"""The /chat commands open to everyone: next, join, leave, role and certificate.

Each answers Discord first, privately (see `CommandKit.begin`), then does its work: giving
or taking the reminder role is a request to Discord that can wait on its rate limits, and a
certificate is rendered in the publisher's worker.
"""

from __future__ import annotations

import io

import discord
from discord import app_commands

from bot.platforms.discord.command_kit import CommandKit, Refusal
from bot.platforms.discord.messages import discord_time


class MemberCommands(CommandKit):
    """What any member can ask: when, reminders, their role, their CPD certificate."""

    @app_commands.command(name="next", description="When the next chat starts, in your time")
    @app_commands.describe(chat="Which chat (default: the one in this channel, or all)")
    async def next_(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        """When the chat here (or each loaded chat) next starts, as Discord timestamps."""
        await self.begin(interaction)
        if chat and chat not in self.bot.chats:
            await self.reply(interaction, f"There is no chat `{chat}`; try `/chat next`.")
            return
        try:
            chats = [chat] if chat else [self.resolve(interaction, None)]
        except Refusal:
            chats = sorted(self.bot.chats)
        if not chats:
            await self.reply(interaction, "No chat is scheduled yet.")
            return
        await self.reply(interaction, "\n".join(self.next_line(c) for c in chats))

    @app_commands.command(name="join", description="Get a reminder before each chat")
    async def join(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        """Opt in to the reminders (the reminder role, when the server pings one)."""
        await self.opt(interaction, chat, True)

    @app_commands.command(name="leave", description="Stop the reminders")
    async def leave(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        """Opt out of the reminders."""
        await self.opt(interaction, chat, False)

    async def opt(self, interaction: discord.Interaction, chat: str | None, on: bool) -> None:
        """Opt the caller in to (`on`) or out of a chat's reminders."""
        await self.begin(interaction)  # adding a role is a request Discord may rate-limit
        try:
            chat_id = self.resolve(interaction, chat)
        except Refusal as exc:
            await self.reply(interaction, str(exc))
            return
        platform = self.platforms().get(chat_id)
        if platform is None or platform.mirror is None:
            await self.reply(interaction, f"`{chat_id}` does not run on Discord.")
            return
        role = platform.reminder_role
        member = interaction.user
        title = self.bot.chats[chat_id].script.title
        if role is not None and isinstance(member, discord.Member):
            # The server pings a reminder role: opting in means holding that role.
            try:
                if on:
                    await member.add_roles(role, reason="/chat join")
                else:
                    await member.remove_roles(role, reason="/chat leave")
            except discord.Forbidden:
                await self.reply(interaction, f"I cannot give out the {role.name} role: the bot "
                                 "needs Manage Roles and a role above it. Please tell a moderator.")
                return
        else:
            platform.mirror.set_opt_in(str(member.id), on, self.bot.clock.now())
        if on:
            text = f"You'll get a reminder before **{title}**. `/chat leave` stops them."
        else:
            text = f"No more reminders for **{title}**."
        await self.reply(interaction, text)

    @app_commands.command(name="certificate",
                          description="Your CPD certificate for a chat you took part in")
    @app_commands.describe(session="Session id (default: the chat's latest finished session)",
                           member="Moderators: someone else's certificate")
    async def certificate(self, interaction: discord.Interaction, chat: str | None = None,
                          session: int | None = None, member: discord.Member | None = None
                          ) -> None:
        """Sent only to the caller (ephemeral): a certificate is personal."""
        await self.begin(interaction)
        who = member or interaction.user
        if who.id != interaction.user.id and not await self.guard(interaction, "certificate"):
            return  # only the person, or a moderator, gets someone's certificate
        from bot.transcript.certificate import CertificateError

        try:
            row = self.finished(interaction, chat, session)
        except Refusal as exc:
            await self.reply(interaction, str(exc))
            return
        try:
            name, page = await self.bot.publisher.certificate(row.id, "discord", str(who.id))
        except CertificateError:
            await self.reply(interaction, f"{who.display_name} posted nothing public in "
                                          f"session {row.id}, so there is no certificate.")
            return
        await self.reply(
            interaction, f"CPD certificate for **{who.display_name}**: {row.title}, "
            f"{discord_time(row.scheduled_start, 'D')} (session {row.id}). Open it in a "
            "browser to print it or save it as PDF.",
            file=discord.File(io.BytesIO(page.encode()), filename=name))

    @app_commands.command(name="role", description="Say who you are in this chat (optional)")
    @app_commands.describe(role="Patient, carer, nurse ... (leave empty to remove yours)")
    async def role(self, interaction: discord.Interaction, role: str | None = None,
                   chat: str | None = None) -> None:
        """Declare (or remove) your role; it is shown as a badge and counted in the summary."""
        await self.begin(interaction)
        try:
            chat_id = self.resolve(interaction, chat)
            roles = self.bot.chats[chat_id].script.model.roles
            wanted = next((r for r in roles if r.lower() == (role or "").strip().lower()), "")
            if role and not wanted:
                raise Refusal(f"`{role}` is not one of this chat's roles: {', '.join(roles)}.")
        except Refusal as exc:
            await self.reply(interaction, str(exc))
            return
        self.bot.archive.set_role(chat_id, "discord", str(interaction.user.id), wanted,
                                  self.bot.clock.now())
        await self.reply(interaction, f"Your role in `{chat_id}`: **{wanted}**." if wanted
                         else f"You have no role in `{chat_id}` now.")

    @role.autocomplete("role")
    async def role_choices(self, interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
        """Autocomplete for the `role` option: the roles the loaded chats offer."""
        roles: list[str] = []
        for runtime in self.bot.chats.values():
            roles += [r for r in runtime.script.model.roles if r not in roles]
        return [app_commands.Choice(name=r, value=r) for r in roles
                if current.lower() in r.lower()][:25]
