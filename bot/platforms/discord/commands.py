"""The /chat slash commands: moderators run the chat from Discord, everyone can ask when.

Moderator commands (the configured moderator role, or Manage Messages in the chat's
channel): list, load, start, pause, resume, skip, extend, stop, transcript. Everyone: next,
join, leave, role (declare yours: patient, nurse, ...; shown as a badge in the transcript),
and certificate (your own CPD certificate, privately; a moderator may ask for a member's).
A member who tries a moderator command is told so privately, and the attempt is logged and
written to the archive's audit log.

Replies that only concern the caller (errors, refusals, lists) are ephemeral; a transcript
is posted for everyone. The cog drives the bot exactly as the CLI and the web room do.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.host import ControlError
from bot.platforms.discord.messages import MAX_LENGTH, discord_time
from bot.script import ScriptError, load_script

if TYPE_CHECKING:
    from bot.platforms.base import BotControl
    from bot.platforms.discord.scheduled_events import ScheduleMirror

log = logging.getLogger(__name__)

COG_NAME = "ChatCommands"
MAX_SCRIPT_BYTES = 256 * 1024  # a chat script is a page of YAML; refuse anything huge


class DiscordChat(Protocol):
    """What the commands need of a chat's Discord adapter (without importing it)."""

    channel_id: int
    guild: discord.Guild | None
    mirror: ScheduleMirror | None
    reminder_role: discord.Role | None

    def is_moderator(self, member: discord.Member) -> bool: ...


class Refusal(Exception):
    """A command cannot go ahead: the message is shown to the caller only."""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 2] + " …"


class ChatCommands(commands.GroupCog, name=COG_NAME, group_name="chat",
                   group_description="Run and follow the scheduled chats"):
    def __init__(self, bot: BotControl) -> None:
        self.bot = bot  # the running bot, through its narrow control surface
        self.synced: set[int] = set()  # guilds whose command list is up to date
        super().__init__()

    # ------------------------------------------------------------------ helpers

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
            target=str(interaction.channel_id or ""), detail=f"{user.name} is not a moderator",
            at=self.bot.clock.now(),
        )
        await self.reply(
            interaction,
            f"Sorry, `/chat {command}` is for the chat's moderators. "
            "`/chat next`, `/chat join` and `/chat leave` are open to everyone.",
        )
        return False

    async def reply(self, interaction: discord.Interaction, text: str, *,
                    ephemeral: bool = True, **extra: Any) -> None:
        kwargs = {"ephemeral": ephemeral, "allowed_mentions": discord.AllowedMentions.none(),
                  **extra}
        if interaction.response.is_done():
            await interaction.followup.send(_clip(text), **kwargs)
        else:
            await interaction.response.send_message(_clip(text), **kwargs)

    async def control(self, interaction: discord.Interaction, command: str, chat: str | None,
                      minutes: float | None = None) -> None:
        if not await self.guard(interaction, command):
            return
        try:
            chat_id = self.resolve(interaction, chat)
            detail = self.bot.control(command, minutes, chat_id=chat_id,
                                      actor=f"discord:{interaction.user.name}")
        except (Refusal, ControlError) as exc:
            await self.reply(interaction, str(exc))
            return
        log.info("/chat %s by %s: %s", command, interaction.user.name, detail)
        await self.reply(interaction, f"{chat_id}: {detail}")

    def _next_line(self, chat_id: str) -> str:
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

    async def _autocomplete(self, interaction: discord.Interaction, current: str
                            ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=cid, value=cid) for cid in sorted(self.bot.chats)
                if current.lower() in cid][:25]

    # ------------------------------------------------------------------ everyone

    @app_commands.command(name="next", description="When the next chat starts, in your time")
    @app_commands.describe(chat="Which chat (default: the one in this channel, or all)")
    async def next_(self, interaction: discord.Interaction, chat: str | None = None) -> None:
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
        await self.reply(interaction, "\n".join(self._next_line(c) for c in chats))

    @app_commands.command(name="join", description="Get a reminder before each chat")
    async def join(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        await self._opt(interaction, chat, True)

    @app_commands.command(name="leave", description="Stop the reminders")
    async def leave(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        await self._opt(interaction, chat, False)

    async def _opt(self, interaction: discord.Interaction, chat: str | None, on: bool) -> None:
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

    # ------------------------------------------------------------------ moderators

    @app_commands.command(name="list", description="Moderators: loaded chats and next times")
    async def list_(self, interaction: discord.Interaction) -> None:
        if not await self.guard(interaction, "list"):
            return
        lines = [self._next_line(c) for c in sorted(self.bot.chats)]
        problems = [str(i) for i in self.bot.script_issues]
        if problems:
            lines.append(f"{len(problems)} script(s) have problems: " + "; ".join(problems[:3]))
        await self.reply(interaction, "\n".join(lines) or "No chat is loaded.")

    @app_commands.command(name="load", description="Moderators: add or replace a chat script")
    @app_commands.describe(script="The chat script, a .yaml file")
    async def load(self, interaction: discord.Interaction, script: discord.Attachment) -> None:
        if not await self.guard(interaction, "load"):
            return
        # Discord drops an interaction not answered within 3 seconds; downloading the file
        # and reloading (which may start platforms) can take longer, so defer first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        name = Path(script.filename).name
        if Path(name).suffix.lower() not in (".yaml", ".yml"):
            await self.reply(interaction, f"{name}: a chat script is a .yaml file; attach that.")
            return
        if script.size > MAX_SCRIPT_BYTES:
            await self.reply(interaction, f"{name}: {script.size} bytes is too big for a chat "
                             "script; check you attached the right file.")
            return
        try:
            text = (await script.read()).decode("utf-8")
        except UnicodeDecodeError:
            await self.reply(interaction, f"{name}: not UTF-8 text; save it as UTF-8.")
            return
        except discord.HTTPException as exc:
            await self.reply(interaction, f"{name}: could not download it ({exc}); try again.")
            return
        try:
            loaded = load_script(name, text=text)  # errors then name the file the user sent
        except ScriptError as exc:
            issues = "\n".join(str(i) for i in exc.issues)
            await self.reply(interaction, f"{name} was not loaded:\n```\n{issues}\n```")
            return
        chats_dir = Path(self.bot.settings.chats.dir)
        existing = self.bot.chats.get(loaded.id)
        target = (existing.script.path if existing and existing.script.path.parent == chats_dir
                  else chats_dir / f"{loaded.id}.yaml")
        chats_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.bot.archive.audit(actor=f"discord:{interaction.user.id}", action="load script",
                               target=loaded.id, detail=str(target), at=self.bot.clock.now())
        await self.bot.reload()
        verb = "Replaced" if existing else "Loaded"
        line = self._next_line(loaded.id) if loaded.id in self.bot.chats else loaded.title
        await self.reply(interaction, f"{verb} `{target.name}`. {line}")

    @app_commands.command(name="start", description="Moderators: start a session now")
    @app_commands.describe(pace="Rehearse at this speed (e.g. 60: an hour in a minute)")
    async def start(self, interaction: discord.Interaction, chat: str | None = None,
                    pace: app_commands.Range[float, 1.0, 600.0] | None = None) -> None:
        if not await self.guard(interaction, "start"):
            return
        try:
            chat_id = self.resolve(interaction, chat)
            session_id = await self.bot.start_session(
                chat_id, pace=pace or 1.0, rehearsal=pace is not None)
        except (Refusal, ControlError) as exc:
            await self.reply(interaction, str(exc))
            return
        kind = f"a rehearsal at pace {pace:g}" if pace is not None else "live"
        log.info("/chat start by %s: session %s (%s)", interaction.user.name, session_id, kind)
        await self.reply(interaction, f"Started session {session_id} of `{chat_id}`, {kind}.")

    @app_commands.command(name="pause", description="Moderators: hold the remaining posts")
    async def pause(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        await self.control(interaction, "pause", chat)

    @app_commands.command(name="resume", description="Moderators: carry on after a pause")
    async def resume(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        await self.control(interaction, "resume", chat)

    @app_commands.command(name="skip", description="Moderators: post the next item now")
    async def skip(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        await self.control(interaction, "skip", chat)

    @app_commands.command(name="extend", description="Moderators: move the remaining posts later")
    @app_commands.describe(minutes="How many minutes later")
    async def extend(self, interaction: discord.Interaction,
                     minutes: app_commands.Range[int, 1, 120], chat: str | None = None) -> None:
        await self.control(interaction, "extend", chat, float(minutes))

    @app_commands.command(name="stop", description="Moderators: skip to the closing post now")
    async def stop(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        await self.control(interaction, "stop", chat)

    @app_commands.command(name="transcript",
                          description="Moderators: post a session's transcript here")
    @app_commands.describe(session="Session id (default: the chat's latest finished session)")
    async def transcript(self, interaction: discord.Interaction, chat: str | None = None,
                         session: int | None = None) -> None:
        if not await self.guard(interaction, "transcript"):
            return
        try:
            row = self._finished(interaction, chat, session)
        except Refusal as exc:
            await self.reply(interaction, str(exc))
            return
        await interaction.response.defer(thinking=True)  # rendering can take a moment
        # Rendered in the publisher's worker, one at a time: the loop (and every live chat
        # on it) only waits.
        published = await self.bot.publisher.publish(row.id)
        paths = [p for p in published.files if p.suffix in (".html", ".md")]
        when = discord_time(row.scheduled_start, "D")
        text = (f"Transcript of **{row.title}** ({when}, session {row.id}): "
                f"{published.messages} messages.")
        limit = interaction.guild.filesize_limit if interaction.guild else 10 * 2**20
        size = sum(p.stat().st_size for p in paths)
        if size > limit:  # Discord would answer 413 and leave "thinking..." for ever
            link = self.bot.settings.web.public_url.rstrip("/")
            where = f" Read it at {link}/archive/{row.id}." if link else (
                f" It is in {paths[0].parent} on the bot's machine." if paths else "")
            await interaction.followup.send(
                f"{text} The files ({size / 2**20:.1f} MB) are over this server's upload "
                f"limit ({limit / 2**20:.0f} MB).{where}",
                allowed_mentions=discord.AllowedMentions.none())
            return
        files = [discord.File(p, filename=p.name) for p in paths]
        try:
            await interaction.followup.send(text, files=files,
                                            allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            await interaction.followup.send(f"{text} Discord refused the files ({exc.status}: "
                                            f"{exc.text}).",
                                            allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="certificate",
                          description="Your CPD certificate for a chat you took part in")
    @app_commands.describe(session="Session id (default: the chat's latest finished session)",
                           member="Moderators: someone else's certificate")
    async def certificate(self, interaction: discord.Interaction, chat: str | None = None,
                          session: int | None = None, member: discord.Member | None = None
                          ) -> None:
        """Sent only to the caller (ephemeral): a certificate is personal."""
        who = member or interaction.user
        if who.id != interaction.user.id and not await self.guard(interaction, "certificate"):
            return  # only the person, or a moderator, gets someone's certificate
        from bot.transcript.certificate import CertificateError

        try:
            row = self._finished(interaction, chat, session)
        except Refusal as exc:
            await self.reply(interaction, str(exc))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
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
    async def _role_choices(self, interaction: discord.Interaction, current: str
                            ) -> list[app_commands.Choice[str]]:
        roles: list[str] = []
        for runtime in self.bot.chats.values():
            roles += [r for r in runtime.script.model.roles if r not in roles]
        return [app_commands.Choice(name=r, value=r) for r in roles
                if current.lower() in r.lower()][:25]

    def _finished(self, interaction: discord.Interaction, chat: str | None,
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

    # Autocomplete of the chat option, on every command that has one.
    for _cmd in (next_, join, leave, start, pause, resume, skip, extend, stop, transcript,
                 certificate, role):
        _cmd.autocomplete("chat")(_autocomplete)
    del _cmd


async def install(client: discord.Client, control: BotControl, guild: discord.Guild) -> None:
    """Add the /chat commands to the client (once per bot: one cog answers for all of its
    chats, finding each command's chat from the channel or the `chat` option) and publish
    them to this server.

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
