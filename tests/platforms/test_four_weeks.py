"""Four weeks of a weekly chat on X and Discord at once, on a FakeClock, against the strict
fakes (issue 16, "done when"): a crash in the middle of a post, a Discord reconnect that
cannot resume, a fortnight without a single tweet, and the X credits running out mid-chat
and coming back twenty minutes later. Every post goes out once (the ones X held back after
the top-up, in order), every reply is collected, and the moderators hear of every gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.archive import Archive
from bot.clock import FakeClock
from bot.collector import Collector
from bot.host import RetryPolicy, SessionHost
from bot.platforms.base import ChatContext, Platform
from bot.platforms.discord.adapter import DiscordPlatform
from bot.platforms.x.adapter import XPlatform
from bot.script import ChatScript
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_x import FakeXServer
from tests.platforms.test_x_platform import TOKENS

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)  # a Wednesday, 20:00 London
WEEK = timedelta(days=7)


class Run:
    """The bot's moving parts for one chat on both platforms, and what it told people."""

    def __init__(self, archive: Archive, script: ChatScript, clock: FakeClock,
                 x: XPlatform, discord: DiscordPlatform, server: FakeXServer) -> None:
        self.archive, self.script, self.clock = archive, script, clock
        self.x, self.discord, self.server = x, discord, server
        self.platforms: dict[str, Platform] = {"x": x, "discord": discord}
        self.alerts: list[str] = []
        self.sid: int | None = None
        self.collectors = [
            Collector(archive, "test", p, live_session=lambda: self.sid, clock=clock,
                      on_alert=self.alert)
            for p in self.platforms.values()
        ]
        self.host_task: asyncio.Task[None] | None = None
        self.replies: list[str] = []  # every reply the crowd made, by its text

    async def alert(self, session_id: int | None, text: str) -> None:
        self.alerts.append(text)

    async def step(self, seconds: float = 5.0) -> None:
        """Fake time moves; real time lets HTTP and the gateway answer."""
        self.clock.advance(seconds)
        for _ in range(3):
            await asyncio.sleep(0.02)

    async def until(self, done: Callable[[], bool], what: str, limit: int = 400) -> None:
        for _ in range(limit):
            if done():
                return
            await self.step()
        rows = [(i.key, r["platform"], r["status"], r["last_error"])
                for i in self.archive.items(self.sid or 0)
                for r in self.archive.outbox(self.sid or 0, i.key)]
        raise AssertionError(f"never happened: {what}; alerts: {self.alerts}; outbox: {rows}")

    async def days(self, n: int) -> None:
        """Quiet days pass; the bot keeps polling X, once a day at least."""
        for _ in range(n):
            self.clock.advance(86400)
            target = len(self.server.searches()) + 1
            await self.until(lambda t=target: len(self.server.searches()) >= t,  # type: ignore[misc]
                             "a poll")

    def session(self, start: datetime) -> int:
        sid = self.archive.create_session(
            chat_id="test", title=self.script.title, hashtag=self.script.hashtag,
            timezone="Europe/London", scheduled_start=start, duration_minutes=5,
            platforms=list(self.platforms), items=self.script.timeline(), host_name="Host")
        self.archive.update_session(sid, origin=start, started_at=start, status="live")
        self.sid = sid
        return sid

    def host(self, sid: int) -> SessionHost:
        host = SessionHost(self.archive, sid, self.platforms, clock=self.clock,
                           retry=RetryPolicy(attempts=3, base_seconds=1), on_alert=self.alert,
                           repeat_text=self.script.model.repeat_text)
        self.host_task = asyncio.create_task(host.run())
        return host

    def sent(self, sid: int, key: str, platform: str) -> dict[str, Any] | None:
        rows = [r for r in self.archive.outbox(sid, key) if r["platform"] == platform]
        return rows[0] if rows and rows[0]["status"] == "sent" else None

    async def answer(self, world: DiscordWorld, sid: int, key: str, text: str) -> None:
        """Someone answers the item on both platforms, in its conversation and thread."""
        await self.until(lambda: bool(self.sent(sid, key, "x") and self.sent(sid, key, "discord")),
                         f"{key} out on both platforms")
        x_row, d_row = self.sent(sid, key, "x"), self.sent(sid, key, "discord")
        assert x_row is not None and d_row is not None
        self.server.add_tweet("ann", f"{text} (X)", reply_to=x_row["platform_id"])
        thread = world.guild.get_thread(int(d_row["thread_id"] or 0))
        await world.user_message(f"{text} (Discord)", channel=thread or world.chat)
        self.replies += [f"{text} (X)", f"{text} (Discord)"]

    def archive_sessions(self) -> list[int]:
        return [s.id for s in self.archive.sessions(chat_id="test")]

    def collected(self) -> set[str]:
        rows = self.archive.db.execute("select text from messages where is_host = 0").fetchall()
        return {r[0] for r in rows}

    def posts(self, platform: str) -> list[str]:
        if platform == "x":
            return [t["text"] for t in self.server.posted]
        return [m["content"] for m in self._discord_sent()]

    def _discord_sent(self) -> list[dict[str, Any]]:
        from discord.ext.test import backend as dback
        assert dback._cur_config is not None
        me = str(self.discord.client.user.id if self.discord.client.user else "")
        return [m for msgs in dback._cur_config.messages.values() for m in msgs
                if str(m["author"]["id"]) == me]


async def test_four_weeks_on_x_and_discord(
    world: DiscordWorld, tmp_path: Path, small_script: ChatScript
) -> None:
    clock = FakeClock(START - timedelta(minutes=10))
    async with FakeXServer(clock=clock) as server:
        x = XPlatform(ChatContext("test", "Test chat", "#TestChat", {
            "poll_interval": 30, "request_timeout": 10, "backoff_base": 1, "backoff_cap": 60,
            "page_size": 100}), **TOKENS, base_url=server.base_url, clock=clock)
        discord = DiscordPlatform(ChatContext("test", "Test chat", "#TestChat",
                                              world.settings()), client=world.bot, clock=clock)
        await x.start()
        await discord.start()
        run = Run(Archive(tmp_path / "a.db"), small_script, clock, x, discord, server)
        for collector in run.collectors:
            await collector.backfill()
            collector.start()

        # Week 1: an ordinary chat.
        sid = run.session(START)
        run.host(sid)
        for key in ("welcome", "q1", "q2", "q3"):
            await run.answer(world, sid, key, f"A week 1 {key}")
        await run.until(lambda: run.host_task is not None and run.host_task.done(), "week 1")

        # Week 2: the bot dies while Q2 goes out (X took it, Discord never saw it), and
        # Discord's gateway drops during Q3 and comes back with a fresh session.
        await run.days(6)
        clock.advance((START + WEEK - clock.now()).total_seconds())
        sid = run.session(START + WEEK)
        host = run.host(sid)
        await run.answer(world, sid, "q1", "A week 2 q1")
        await run.until(lambda: run.clock.now() >= START + WEEK + timedelta(seconds=115), "Q2")
        assert run.host_task is not None
        run.host_task.cancel()  # the crash
        q2 = next(i for i in run.archive.items(sid) if i.key == "q2")
        for name in ("x", "discord"):
            run.archive.mark_sending(sid, "q2", name)
        await x.post(host._text_for(x, q2), new_thread=q2.text[:90])
        host = run.host(sid)  # the restart
        await run.answer(world, sid, "q2", "A week 2 q2")
        await world.drop()
        await world.user_message("A week 2 while the gateway was down", offline=True)
        run.replies.append("A week 2 while the gateway was down")
        await world.reconnect(resumed=False)
        await run.answer(world, sid, "q3", "A week 2 q3")
        await run.until(lambda: run.host_task is not None and run.host_task.done(), "week 2")

        # Weeks 3 and 4 skipped for the holidays: a fortnight without a tweet, polled daily.
        await run.days(20)

        # Week 5: the credits run out after Q1 and stay out for twenty minutes, past Q3 and
        # the close; Discord carries on, X's posts are held, then go out after the top-up.
        clock.advance((START + 4 * WEEK - clock.now()).total_seconds())
        sid = run.session(START + 4 * WEEK)
        run.host(sid)
        await run.answer(world, sid, "q1", "A week 5 q1")
        server.ledger.credits = 0.0
        server.add_tweet("ben", "A week 5 said while X would not let us read #TestChat")
        run.replies.append("A week 5 said while X would not let us read #TestChat")
        await run.until(lambda: any("q2 is held on x" in a for a in run.alerts),
                        "the moderators told of Q2")
        held_at = clock.now()
        await run.until(lambda: clock.now() >= held_at + timedelta(minutes=20), "20 minutes")
        assert run.sent(sid, "close", "discord") and not run.sent(sid, "q2", "x")
        refused = [r for r in server.requests
                   if r.method == "POST" and r.path == "/2/tweets" and r.status == 402]
        assert 3 <= len(refused) <= 6, len(refused)  # asked at 1, 2, 4, 8 min: not every 5 s
        server.ledger.credits = 50.0
        await run.answer(world, sid, "q3", "A week 5 q3")  # once X has it too
        await run.until(lambda: run.host_task is not None and run.host_task.done(), "week 5")
        await run.until(lambda: set(run.replies) <= run.collected(), "every reply collected")

        for collector in run.collectors:
            await collector.stop()
        await x.stop()
        await discord.stop()

    # Every post once: each sent outbox row is exactly one message on its platform.
    rows = [(sid, i.key, r["platform"], r["status"], r["platform_id"])
            for sid in run.archive_sessions() for i in run.archive.items(sid)
            for r in run.archive.outbox(sid, i.key)]
    unsent = [r[:4] for r in rows if r[3] != "sent"]
    for name in ("x", "discord"):
        ids = [r[4] for r in rows if r[2] == name and r[3] == "sent"]
        assert len(ids) == len(set(ids)) == len(run.posts(name)), (
            name, [r for r in rows if r[2] == name])
    assert len(set(run.posts("x"))) == len(run.posts("x"))  # X refuses repeats: all dated
    # Nothing was lost to the spent credits: X's held posts went out after the top-up, in
    # the script's order, and the moderators heard when the hold began and when it ended.
    assert unsent == []
    week5 = run.archive_sessions()[-1]
    x_ids = [int((run.sent(week5, i.key, "x") or {})["platform_id"])
             for i in run.archive.items(week5)]
    assert x_ids == sorted(x_ids), x_ids
    assert any("q2 is held on x" in a and "credits are spent" in a
               for a in run.alerts), run.alerts
    assert any(a.startswith("x: posting again") and "q2, q3, close" in a for a in run.alerts)
    assert any("collecting replies has been failing" in a for a in run.alerts)
    assert "x: collecting again" in run.alerts
    # Every reply collected, the ones said during the outages too.
    assert set(run.replies) <= run.collected()
    assert not [r for r in server.requests if r.status == 400], "a stale cursor reached X"
