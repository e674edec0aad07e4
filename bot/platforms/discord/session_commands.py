"""The moderators' /chat commands, which run the chat's sessions.

list, load, start, pause, resume, skip, extend, stop and transcript. Each answers Discord
first (see `CommandKit.begin`), then checks the caller and does the work; a member who is
not a moderator is told so privately and the attempt is written to the archive's audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import discord
from discord import app_commands

from bot.host import ControlError
from bot.platforms.discord.command_kit import CommandKit, Refusal
from bot.platforms.discord.messages import discord_time
from bot.script import ChatScript, ScriptError, load_script

log = logging.getLogger(__name__)

MAX_SCRIPT_BYTES = 256 * 1024  # a chat script is a page of YAML; refuse anything huge
NO_MENTIONS = discord.AllowedMentions.none()


class SessionCommands(CommandKit):
    """Moderators run the chat's sessions from Discord, as from the CLI or the web console."""

    async def control(self, interaction: discord.Interaction, command: str, chat: str | None,
                      minutes: float | None = None) -> None:
        """Pause, resume, skip, extend or stop the chat's live session, and say what happened."""
        await self.begin(interaction)
        if not await self.guard(interaction, command):
            return
        try:
            chat_id = self.resolve(interaction, chat)
            # The host lives on the loop: its control is a quick in-memory change and a log row.
            detail = self.bot.control(command, minutes, chat_id=chat_id,
                                      actor=f"discord:{interaction.user.name}")
        except (Refusal, ControlError) as exc:
            await self.reply(interaction, str(exc))
            return
        log.info("/chat %s by %s: %s", command, interaction.user.name, detail)
        await self.reply(interaction, f"{chat_id}: {detail}")

    @app_commands.command(name="list", description="Moderators: loaded chats and next times")
    async def list_(self, interaction: discord.Interaction) -> None:
        """Every loaded chat with its next time, and the scripts that failed to load."""
        await self.begin(interaction)
        if not await self.guard(interaction, "list"):
            return
        lines = [self.next_line(c) for c in sorted(self.bot.chats)]
        problems = [str(i) for i in self.bot.script_issues]
        if problems:
            lines.append(f"{len(problems)} script(s) have problems: " + "; ".join(problems[:3]))
        await self.reply(interaction, "\n".join(lines) or "No chat is loaded.")

    @app_commands.command(name="load", description="Moderators: add or replace a chat script")
    @app_commands.describe(script="The chat script, a .yaml file")
    async def load(self, interaction: discord.Interaction, script: discord.Attachment) -> None:
        """Check an attached chat script, save it in chats/ and reload the schedule."""
        await self.begin(interaction)  # the download and the reload can take seconds
        if not await self.guard(interaction, "load"):
            return
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
            # Parsing and checking up to 256 KB of YAML is work for a thread, not the loop;
            # the errors then name the file the user sent.
            loaded = await asyncio.to_thread(load_script, name, text=text)
        except ScriptError as exc:
            issues = "\n".join(str(i) for i in exc.issues)
            await self.reply(interaction, f"{name} was not loaded:\n```\n{issues}\n```")
            return
        existing = self.bot.chats.get(loaded.id)
        target = await asyncio.to_thread(self._save, loaded, text)
        self.bot.archive.audit(actor=f"discord:{interaction.user.id}", action="load script",
                               target=loaded.id, detail=str(target), at=self.bot.clock.now())
        await self.bot.reload()
        verb = "Replaced" if existing else "Loaded"
        line = self.next_line(loaded.id) if loaded.id in self.bot.chats else loaded.title
        await self.reply(interaction, f"{verb} `{target.name}`. {line}")

    def _save(self, loaded: ChatScript, text: str) -> Path:
        """Write the script over its own file in chats/, else as chats/<id>.yaml."""
        chats_dir = Path(self.bot.settings.chats.dir)
        existing = self.bot.chats.get(loaded.id)
        target = (existing.script.path if existing and existing.script.path.parent == chats_dir
                  else chats_dir / f"{loaded.id}.yaml")
        chats_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    @app_commands.command(name="start", description="Moderators: start a session now")
    @app_commands.describe(pace="Rehearse at this speed (e.g. 60: an hour in a minute)")
    async def start(self, interaction: discord.Interaction, chat: str | None = None,
                    pace: app_commands.Range[float, 1.0, 600.0] | None = None) -> None:
        """Start a session of the chat now: live, or a rehearsal at `pace`."""
        await self.begin(interaction)  # starting creates the session and may reach platforms
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
        """Hold the live session's remaining posts until resume."""
        await self.control(interaction, "pause", chat)

    @app_commands.command(name="resume", description="Moderators: carry on after a pause")
    async def resume(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        """Carry on after a pause (the remaining posts move by the time paused)."""
        await self.control(interaction, "resume", chat)

    @app_commands.command(name="skip", description="Moderators: post the next item now")
    async def skip(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        """Post the live session's next item now."""
        await self.control(interaction, "skip", chat)

    @app_commands.command(name="extend", description="Moderators: move the remaining posts later")
    @app_commands.describe(minutes="How many minutes later")
    async def extend(self, interaction: discord.Interaction,
                     minutes: app_commands.Range[int, 1, 120], chat: str | None = None) -> None:
        """Move the live session's remaining posts `minutes` later."""
        await self.control(interaction, "extend", chat, float(minutes))

    @app_commands.command(name="stop", description="Moderators: skip to the closing post now")
    async def stop(self, interaction: discord.Interaction, chat: str | None = None) -> None:
        """Skip the remaining questions: the closing post goes out now."""
        await self.control(interaction, "stop", chat)

    @app_commands.command(name="transcript",
                          description="Moderators: post a session's transcript here")
    @app_commands.describe(session="Session id (default: the chat's latest finished session)")
    async def transcript(self, interaction: discord.Interaction, chat: str | None = None,
                         session: int | None = None) -> None:
        """Render a session's transcript and post its HTML and Markdown here, for everyone."""
        # The transcript is for everyone; a refusal of a member is for them alone. Who is a
        # moderator is known in memory, so the deferral can be public or private at once.
        await self.begin(interaction, ephemeral=not self.is_moderator(interaction))
        if not await self.guard(interaction, "transcript"):
            return
        try:
            row = self.finished(interaction, chat, session)
        except Refusal as exc:
            # The deferral was public (for the transcript); a refusal is for the caller only:
            # take the public "thinking..." away and answer privately.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            await self.reply(interaction, str(exc))
            return
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
                f"limit ({limit / 2**20:.0f} MB).{where}", allowed_mentions=NO_MENTIONS)
            return
        files = [discord.File(p, filename=p.name) for p in paths]
        try:
            await interaction.followup.send(text, files=files, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            await interaction.followup.send(f"{text} Discord refused the files ({exc.status}: "
                                            f"{exc.text}).", allowed_mentions=NO_MENTIONS)
