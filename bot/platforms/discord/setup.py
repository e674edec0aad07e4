"""Discord set-up checks: the ids, the server, the channel, the permissions and roles.

Run when an adapter starts, so a missing permission is one plain line naming the exact
toggle a server admin must switch on, reported when the bot starts and not mid-chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.platforms.base import PlatformSetupError

if TYPE_CHECKING:
    from bot.settings import Settings

# Permission attribute -> the label Discord's UI shows, so the setup error names the exact
# toggle a server admin has to switch on.
REQUIRED_PERMISSIONS: dict[str, str] = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "read_message_history": "Read Message History",
    "manage_messages": "Manage Messages",
    "moderate_members": "Timeout Members",
    # Discord split events in two: CREATE_EVENTS creates (and edits the bot's own),
    # MANAGE_EVENTS edits and cancels; a chat's events need both.
    "create_events": "Create Events",
    "manage_events": "Manage Events",
}
THREAD_PERMISSIONS: dict[str, str] = {
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}
# Message types that carry something a person said; joins, pins, "started a thread" don't.


@dataclass(frozen=True)
class Placement:
    """Where a chat lives in Discord, checked: its server, channel, mod log and roles."""

    guild: discord.Guild
    channel: discord.TextChannel
    mod_log: discord.TextChannel | None
    moderator_role: discord.Role | None
    reminder_role: discord.Role | None
    warnings: tuple[str, ...] = ()  # works, but not as the moderator expects


def snowflake(value: Any, what: str) -> int:
    """A Discord id from settings, or one plain line saying how to copy the right one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlatformSetupError(
            f"Discord: {what} must be a numeric id, got {value!r}; "
            "copy it with Developer Mode on (right-click > Copy ID)"
        ) from None


def settings_defaults(settings: Settings) -> dict[str, Any]:
    """config/settings.toml [discord] values, which a script's platform_settings override."""
    d = settings.discord
    return {
        "guild_id": d.guild_id,
        "channel_id": d.channel_id,
        "moderator_role": d.moderator_role,
        "mod_log_channel_id": d.mod_log_channel_id,
    }


def check_setup(client: discord.Client, *, guild_id: int, channel_id: int, threads: bool,
                mod_log_channel_id: int | None, moderator_role: Any,
                reminder_role: Any) -> Placement:
    """The chat's server, channel, mod log and roles, or PlatformSetupError naming the fix."""
    guild = client.get_guild(guild_id)
    if guild is None:
        raise PlatformSetupError(
            f"Discord: the bot is not in server {guild_id}; invite it with the "
            "OAuth2 URL (scopes: bot, applications.commands) or fix guild_id"
        )
    channel = guild.get_channel(channel_id)
    if not isinstance(channel, discord.TextChannel):
        what = "is not a text channel" if channel is not None else "was not found"
        raise PlatformSetupError(
            f"Discord: channel {channel_id} {what} in server '{guild.name}'; "
            "set channel_id to a text channel's id"
        )
    me = guild.me
    needed = dict(REQUIRED_PERMISSIONS)
    if threads:
        needed.update(THREAD_PERMISSIONS)
    perms = channel.permissions_for(me)
    missing = [label for attr, label in needed.items() if not getattr(perms, attr)]
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        raise PlatformSetupError(
            f"Discord: the bot lacks {names} in #{channel.name} (channel {channel.id}); "
            "grant it in Server Settings > Roles"
        )
    mod_log: discord.TextChannel | None = None
    if mod_log_channel_id is not None:
        found = guild.get_channel(mod_log_channel_id)
        if not isinstance(found, discord.TextChannel):
            raise PlatformSetupError(
                f"Discord: mod_log_channel_id {mod_log_channel_id} is not a text "
                f"channel in server '{guild.name}'; fix it or remove it"
            )
        mod_log = found
        lp = mod_log.permissions_for(me)
        if not (lp.view_channel and lp.send_messages):
            raise PlatformSetupError(
                f"Discord: the bot lacks 'Send Messages' in #{mod_log.name} "
                f"(channel {mod_log.id}); grant it in Server Settings > Roles"
            )
    reminders = role(guild, reminder_role, "reminder_role")
    warnings = []
    if reminders is not None and not reminders.mentionable and not perms.mention_everyone:
        warnings.append(
            f"Discord: reminder_role '{reminders.name}' is not mentionable and the bot lacks "
            "'Mention @everyone, @here, and All Roles' in "
            f"#{channel.name}: reminders would ping no one; make the role mentionable "
            "(Server Settings > Roles) or grant the permission (docs/discord.md, step 2)")
    return Placement(guild, channel, mod_log, role(guild, moderator_role, "moderator_role"),
                     reminders, tuple(warnings))


def role(guild: discord.Guild, setting: Any, what: str) -> discord.Role | None:
    """The role a setting names (by id or exact name); None when the setting is empty."""
    if setting in (None, ""):
        return None
    text = str(setting)
    found = guild.get_role(int(text)) if text.isdigit() else discord.utils.get(guild.roles,
                                                                                name=text)
    if found is None:
        raise PlatformSetupError(
            f"Discord: {what} {text!r} is not a role in server '{guild.name}'; "
            "use the role's exact name or id"
        )
    return found
