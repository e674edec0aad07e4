"""Crisis signposts on Bluesky: a private direct message through the chat service
(chat.bsky.convo.getConvoForMembers, then sendMessage, both through the PDS with the
`atproto-proxy: did:web:api.bsky.chat#bsky_chat` header). An app password without
direct-message access, or a person who takes no messages, leaves the signpost unsent and
the moderators told to reach out another way."""

from __future__ import annotations

from pathlib import Path

from bot.archive import Archive
from bot.moderation.engine import ModerationEngine
from bot.moderation.policy import DEFAULT_SIGNPOST, Policy
from bot.records import Action
from tests.platforms.test_opennets_actions import NOW, on_bluesky

WORDS = "Look after yourselves. Samaritans: 116 123, day and night."


async def test_a_signpost_goes_by_direct_message_through_the_chat_proxy() -> None:
    async with on_bluesky() as (server, bot):
        post = server.add_post("ann", "A1 some days I wonder")
        ann = post.removeprefix("at://").split("/")[0]
        result = await bot.act(Action("signpost", message_id=post, text=WORDS))
        assert result.done and "direct message" in result.detail
        assert server.requests[-2:] == [("GET", "chat.bsky.convo.getConvoForMembers"),
                                        ("POST", "chat.bsky.convo.sendMessage")]
        assert [(d["to"], d["text"]) for d in server.dms] == [(ann, WORDS)]
        again = await bot.act(Action("signpost", author_id=ann, text=WORDS))
        assert again.done and len({d["convo"] for d in server.dms}) == 1  # one conversation


async def test_no_direct_message_access_or_closed_messages_are_said_not_sent() -> None:
    async with on_bluesky() as (server, bot):
        post = server.add_post("bob", "A2 hard week")
        server.dm_access = False  # an app password made without direct-message access
        refused = await bot.act(Action("signpost", message_id=post, text=WORDS))
        assert not refused.done and "direct-message access" in refused.detail
        server.dm_access = True
        server.closed_dms.add(post.removeprefix("at://").split("/")[0])
        closed = await bot.act(Action("signpost", message_id=post, text=WORDS))
        assert not closed.done and "disabled incoming messages" in closed.detail
        assert server.dms == []
        empty = await bot.act(Action("signpost", message_id=post, text="  "))
        assert not empty.done


async def test_the_crisis_check_signposts_privately_and_tells_the_moderators(
        tmp_path: Path) -> None:
    async with on_bluesky() as (server, bot):
        post = server.add_post("cat", "A2 honestly I can't go on #NHSSM", tags=("NHSSM",))
        events = list((await bot.backfill({})).events)
        archive = Archive(tmp_path / "a.db")
        try:
            archive.record_events(events, session_id=None)
            report = await ModerationEngine(Policy.default()).screen(archive, bot, events, None,
                                                                     NOW)
        finally:
            archive.close()
        assert [d["text"] for d in server.dms] == [DEFAULT_SIGNPOST]
        told = [n.text for n in report.notices if n.to == "moderators"]
        assert told and "sent to them privately" in told[0] and post in told[0]
        assert not any(p.get("text") == DEFAULT_SIGNPOST for p in server.posted)  # not public
