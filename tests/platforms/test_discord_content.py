"""Live Discord messages show what a reader sees: stickers, files, embeds, forwards.

Each payload goes through discord.py's own parser (the fake guild's state), shaped as the
gateway sends MESSAGE_CREATE, so the adapter reads real discord.py objects.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.platforms.discord.messages import to_message
from bot.testing.fake_discord import DiscordWorld, _message_data


def created(world: DiscordWorld, content: str, **fields: Any) -> discord.Message:
    data = {**_message_data(world.chat, world.ann, content), **fields}
    return world.state.create_message(channel=world.chat, data=data)


async def test_stickers_files_and_embeds_are_shown(world: DiscordWorld) -> None:
    msg = created(world, "", sticker_items=[{"id": "55", "name": "Wave", "format_type": 1}],
                  attachments=[{"id": "8", "filename": "rota.pdf", "size": 10,
                                "url": "https://cdn.discordapp.com/attachments/1/8/rota.pdf",
                                "proxy_url": "https://media.discordapp.net/8/rota.pdf"}],
                  embeds=[{"type": "rich", "title": "NHS guidance",
                           "url": "https://www.nhs.uk/guide"}])
    m = to_message(msg, channel_id=world.chat.id, thread_id=None)
    lines = m.text.splitlines()
    assert lines[0] == "[sticker: Wave] https://cdn.discordapp.com/stickers/55.png"
    assert lines[1] == "[file: rota.pdf] https://cdn.discordapp.com/attachments/1/8/rota.pdf"
    assert lines[2] == "[link: NHS guidance] https://www.nhs.uk/guide"


async def test_a_forward_is_a_forward_not_a_reply(world: DiscordWorld) -> None:
    msg = created(world, "", message_reference={"type": 1, "message_id": "999",
                                                "channel_id": "555"},
                  message_snapshots=[{"message": {
                      "content": "Trust policy: never post patient stories",
                      "timestamp": "2026-01-07T20:00:00+00:00", "edited_timestamp": None,
                      "type": 0, "components": [], "sticker_items": [],
                      "attachments": [], "embeds": [], "flags": 0,
                      "mentions": [], "mention_roles": []}}])
    m = to_message(msg, channel_id=world.chat.id, thread_id=None)
    assert m.text == "[forwarded] Trust policy: never post patient stories"
    assert m.reply_to is None
