"""End to end on the fake guild: a moderator starts a paced rehearsal with /chat start, the
real App hosts it on Discord, a crowd answers in the question threads, in the channel with
A-tags and by replying; the transcript's threads must match what was said."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import orjson
from discord.ext.test import backend as dback

from bot.clock import FakeClock
from bot.platforms.discord.commands import COG_NAME
from bot.publishing import publish_session
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_discord_events import interaction, replies

PACE = 60.0  # one script minute per wall second; the FakeClock moves it by hand


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the bot's tasks run until `condition` holds (bounded; never a timing assertion)."""
    for _ in range(4000):  # generous: a loaded CI machine runs the bot's tasks slowly
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def in_channel(world: DiscordWorld) -> list[discord.Message]:
    return [m for m in world.bot.cached_messages if m.channel.id == world.chat.id]


def flatten(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    stack = list(entries)
    while stack:
        entry = stack.pop()
        out[entry["id"]] = entry
        stack.extend(entry["replies"])
    return out


async def test_paced_session_on_discord_ends_with_a_matching_transcript(
    world: DiscordWorld, discord_app: Any, tmp_path: Path
) -> None:
    clock = FakeClock()
    app = await discord_app(clock=clock)
    cog = world.bot.get_cog(COG_NAME)
    start = interaction(world, world.ben)
    await cog.start.callback(cog, start, chat=None, pace=PACE)  # type: ignore[union-attr]
    assert replies(start)[0][0] == "Started session 1 of `test`, a rehearsal at pace 60."
    archive, sid = app.archive, 1
    crowd_members = [world.ann, world.ben] + [
        dback.make_member(dback.make_user(name, 1), world.guild) for name in ("cara", "dan", "eve")
    ]

    def item(key: str) -> Any:
        return next(i for i in archive.items(sid) if i.key == key)

    def stored(*messages: discord.Message) -> bool:
        rows = [archive.message("discord", str(m.id)) for m in messages]
        return all(r is not None and r.session_id == sid for r in rows)

    await until(lambda: item("welcome").status == "sent", "the welcome went out")
    # question number -> what the crowd said for it: top-level answers and replies (parent)
    expected_top: dict[int, set[str]] = {}
    expected_parent: dict[str, str] = {}
    for n in (1, 2, 3):
        clock.advance(60 / PACE)  # the next question is due one script minute later
        await until(lambda n=n: item(f"q{n}").status == "sent", f"Q{n} went out")
        q = item(f"q{n}")
        thread = world.guild.get_thread(int(q.threads["discord"]))
        assert thread is not None and thread.parent_id == world.chat.id
        question_post = world.state._get_message(int(q.refs["discord"]))
        assert question_post is not None and question_post.content.startswith(f"Q{n} ")

        # Each says something new, and nobody floods: moderation would rightly hide both.
        # (dpytest stamps messages with the real time, so the whole hour is a second.)
        words = ["listening", "policy", "confidence"][n - 1]
        p = [crowd_members[(n + i) % len(crowd_members)] for i in range(5)]
        in_thread = await world.user_message(f"{words} matters most", member=p[0], channel=thread)
        tagged = await world.user_message(f"A{n} {words} first #TestChat", member=p[1])
        by_reply = await world.user_message(f"on {words}: start small", member=p[2],
                                            reply_to=question_post)
        nested = await world.user_message(f"agreed about {words}", member=p[3], reply_to=tagged)
        in_thread_reply = await world.user_message(
            f"{words}, yes", channel=thread, member=p[4], reply_to=in_thread)
        crowd = (in_thread, tagged, by_reply, nested, in_thread_reply)
        await until(lambda c=crowd: stored(*c), f"the answers to Q{n} are in the archive")
        expected_top[n] = {str(m.id) for m in (in_thread, tagged, by_reply)}
        expected_parent[str(nested.id)] = str(tagged.id)
        expected_parent[str(in_thread_reply.id)] = str(in_thread.id)

    clock.advance(60 / PACE)  # the close
    await until(lambda: archive.session(sid).status == "ended", "the session ended")
    await until(lambda: any(m.attachments for m in in_channel(world)), "shared")

    published = publish_session(archive, sid, app.transcripts_dir, formats=("json",),
                                out_dir=tmp_path / "out")
    doc = orjson.loads((tmp_path / "out" / "transcript.json").read_bytes())
    assert published.messages == len(archive.messages(sid))
    assert [q["number"] for q in doc["questions"]] == [1, 2, 3]
    for q in doc["questions"]:
        n = q["number"]
        top = {a["id"] for a in q["answers"]}
        assert top == expected_top[n], f"Q{n}"
        everything = flatten(q["answers"])
        for child, parent in expected_parent.items():
            if parent in top or parent in everything:
                assert child in {r["id"] for r in everything[parent]["replies"]}
        assert all(e["attribution"]["question"] == n for e in everything.values())
        methods = {a["id"]: a["attribution"]["method"] for a in q["answers"]}
        assert sorted(methods.values()) == ["reply", "tag", "thread"]
        assert not any(e["author"]["host"] for e in everything.values())
    assert doc["unplaced"] == []
    assert doc["summary"]["participants"] == 5
    assert all(not m.hidden for m in archive.messages(sid))
    host_texts = {m.content for m in in_channel(world) if m.author == world.guild.me}
    assert {"Welcome to the test chat.", "Thanks all."} <= host_texts
