"""`forget discord:ID` takes a member out of what the cog recorded: audit rows and opt-ins."""

from __future__ import annotations

import re
from typing import Any

from bot.clock import FakeClock
from bot.moderation.erasure import find_person, forget, subject_hash
from bot.platforms.discord.commands import COG_NAME
from bot.records import Author, Event, Message
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_discord_events import interaction


async def test_forget_takes_member_out_of_audit_and_reminders(world: DiscordWorld,
                                                               discord_app: Any) -> None:
    app = await discord_app(clock=FakeClock())
    cog = world.bot.get_cog(COG_NAME)
    ann_id, ann_name = str(world.ann.id), world.ann.name
    script = app.chats["test"].script
    sid = app.archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=app.clock.now(), duration_minutes=5, platforms=["discord"],
        items=script.timeline(), host_name="Host")
    said = Message("discord", "901", Author("discord", ann_id, ann_name, ann_name), "A1 hello",
                   app.clock.now())
    app.archive.record_events([Event("created", "discord", "901", said.created, said)],
                              session_id=sid, chat_id="test")
    await cog.stop.callback(cog, interaction(world, world.ann), chat=None)  # refused, audited
    await cog.join.callback(cog, interaction(world, world.ann), chat=None)  # reminder opt-in
    rows = lambda table: [dict(r) for r in app.archive.db[table].rows]  # noqa: E731
    assert any(ann_id in str(r) for r in rows("audit_log"))  # the cog did record her
    assert any(r["key"] == ann_id for r in rows("cursors"))

    assert find_person(app.archive, "discord", ann_id) == ann_id
    report = forget(app.archive, "discord", ann_id, actor="dpo", now=app.clock.now())

    assert report.messages == 1 and report.traces == 2
    named = re.compile(rf"\b{re.escape(ann_name)}\b", re.IGNORECASE)  # not "ann" in "channel"
    left = [r for t in ("audit_log", "cursors", "session_log", "participants", "messages")
            for r in rows(t) if ann_id in str(r) or named.search(" ".join(map(str, r.values())))]
    assert left == []
    subject = f"discord:subject:{subject_hash('discord', ann_id)}"
    assert [r["action"] for r in rows("audit_log") if r["actor"] == subject] == [
        "refused /chat stop"]


async def test_a_member_who_never_wrote_is_forgotten_by_id(world: DiscordWorld,
                                                           discord_app: Any) -> None:
    app = await discord_app(clock=FakeClock())
    cog = world.bot.get_cog(COG_NAME)
    ann_id, ann_name = str(world.ann.id), world.ann.name  # not a moderator
    await cog.stop.callback(cog, interaction(world, world.ann), chat=None)  # refused, audited
    await cog.join.callback(cog, interaction(world, world.ann), chat=None)
    assert find_person(app.archive, "discord", ann_id) == ann_id  # no message, no participant
    report = forget(app.archive, "discord", ann_id, actor="dpo", now=app.clock.now())
    assert (report.messages, report.traces) == (0, 2)
    named = re.compile(rf"\b{re.escape(ann_name)}\b", re.IGNORECASE)
    every = [" ".join(map(str, dict(r).values())) for t in ("audit_log", "cursors")
             for r in app.archive.db[t].rows]
    assert not [r for r in every if ann_id in r or named.search(r)]
