"""Moderation on Discord: delete a message, time a member out, write to the mod log.

Discord cannot hide a message from others, so moderation deletes instead. A refusal from
Discord (a missing permission, a member who left) is a plain result, never an exception:
the moderation engine records it and the message stays flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import discord

from bot.platforms.discord.messages import MAX_LENGTH
from bot.records import Action, ActionResult


async def act(action: Action, *, channel_of: Callable[[int], discord.abc.Messageable],
              guild: discord.Guild | None, mod_log: discord.TextChannel | None
              ) -> ActionResult:
    """Carry out one action; `channel_of(message_id)` finds where a message lives."""
    try:
        if action.kind == "delete":
            return await _delete(action, channel_of)
        if action.kind == "timeout":
            return await _timeout(action, guild)
        if action.kind == "modlog":
            return await _modlog(action, mod_log)
        if action.kind == "signpost":
            return await _signpost(action, guild)
    except discord.Forbidden as e:
        return ActionResult(False, f"Discord refused {action.kind}: {e.text}")
    except discord.HTTPException as e:
        return ActionResult(False, f"Discord {action.kind} failed: {e}")
    return ActionResult(False, f"discord cannot {action.kind}; flagged only")


async def _delete(action: Action, channel_of: Callable[[int], discord.abc.Messageable]
                  ) -> ActionResult:
    if not action.message_id:
        return ActionResult(False, "delete needs a message id")
    channel = channel_of(int(action.message_id))
    try:
        await channel.get_partial_message(int(action.message_id)).delete()  # type: ignore[attr-defined]
    except discord.NotFound:
        return ActionResult(True, "already deleted")
    return ActionResult(True, "deleted")


async def _timeout(action: Action, guild: discord.Guild | None) -> ActionResult:
    if not action.author_id:
        return ActionResult(False, "timeout needs an author id")
    member = await _member(guild, action.author_id)
    if isinstance(member, ActionResult):
        return member
    minutes = action.minutes or 10
    await member.timeout(timedelta(minutes=minutes), reason=action.reason or None)
    return ActionResult(True, f"timed out for {minutes} min")


async def _member(guild: discord.Guild | None, author_id: str
                  ) -> discord.Member | ActionResult:
    """The member, from the cache or the API, or why not (as the action's result)."""
    if guild is None:
        return ActionResult(False, "Discord: start() has not run")
    member = guild.get_member(int(author_id))
    if member is None:
        try:
            member = await guild.fetch_member(int(author_id))
        except discord.NotFound:
            return ActionResult(False, f"member {author_id} is not in the server")
    return member


async def _signpost(action: Action, guild: discord.Guild | None) -> ActionResult:
    """Send the safety signpost privately, by direct message.

    A plain message has no ephemeral reply. Someone whose DMs are closed is not reached;
    the caller tells the moderators.
    """
    if not action.author_id or not action.text:
        return ActionResult(False, "signpost needs an author and a text")
    member = await _member(guild, action.author_id)
    if isinstance(member, ActionResult):
        return member
    try:
        await member.send(action.text[:MAX_LENGTH], allowed_mentions=discord.AllowedMentions.none())
    except discord.Forbidden:
        return ActionResult(False, "their direct messages are closed")
    return ActionResult(True, "sent by direct message")


async def _modlog(action: Action, mod_log: discord.TextChannel | None) -> ActionResult:
    if mod_log is None:
        return ActionResult(False, "no mod_log_channel_id set; flagged only")
    line = action.text or action.reason or "(no detail)"
    await mod_log.send(line[:MAX_LENGTH], allowed_mentions=discord.AllowedMentions.none())
    return ActionResult(True, "logged")
