"""Finding 8 (a) of issue 12: an item is marked sent only when a platform accepted it.

A session recovered by a bot that does not run its platforms (started with
`--platform memory`, recovered by a `tweetchat run` configured for the web room) used to
have every item marked `sent` though nothing went out. Now each item owed to a platform
that is not running is marked failed on that platform, with a moderator alert naming it.
"""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.clock import FakeClock
from bot.platforms.memory import MemoryPlatform
from bot.script import ChatScript
from bot.settings import Settings


async def _host_session(settings: Settings, script: ChatScript, platforms: list[str]
                        ) -> tuple[App, MemoryPlatform, int]:
    """A live session whose outbox names `platforms`, hosted by a bot running only memory."""
    clock = FakeClock()
    app = App(settings, scripts=[script], platform_override=["memory"],
              with_scheduler=False, with_web=False, clock=clock)
    await app.start()
    sid = app.archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=clock.now(), duration_minutes=5, platforms=platforms,
        items=script.timeline(), host_name="Host")
    app.archive.update_session(sid, origin=clock.now(), started_at=clock.now(), status="live")
    app._host(sid, app.chats["test"])
    await clock.run_for(400, step=5)
    await asyncio.wait_for(app.host_tasks[sid], 5)
    platform = app.chats["test"].platforms["memory"]
    assert isinstance(platform, MemoryPlatform)
    return app, platform, sid


async def test_items_owed_only_to_absent_platforms_fail_with_an_alert(
        settings: Settings, small_script: ChatScript) -> None:
    app, platform, sid = await _host_session(settings, small_script, ["discord"])
    try:
        assert platform.posts == []  # nothing went out anywhere ...
        items = app.archive.items(sid)
        assert [i.status for i in items] == ["failed"] * len(items)  # ... and none is "sent"
        assert all(i.posted_at is None for i in items)
        for item in items:
            [row] = app.archive.outbox(sid, item.key)
            assert row["status"] == "failed" and "not running" in row["last_error"]
        alerts = [a.text for a in app.alerts]
        assert len(alerts) == len(items)
        assert alerts[0].startswith("welcome could not be posted on discord: the discord "
                                    "platform is not running")
        assert app.archive.session(sid).status == "ended"  # the host does not spin on them
        kinds = [e["kind"] for e in app.archive.session_log(sid)]
        assert kinds.count("post_failed") == len(items)
    finally:
        await app.stop()


async def test_an_item_accepted_by_one_platform_is_sent_and_the_absent_one_reported(
        settings: Settings, small_script: ChatScript) -> None:
    app, platform, sid = await _host_session(settings, small_script, ["memory", "discord"])
    try:
        items = app.archive.items(sid)
        assert len(platform.posts) == len(items)
        assert [i.status for i in items] == ["sent"] * len(items)
        for item in items:
            rows = {r["platform"]: r["status"] for r in app.archive.outbox(sid, item.key)}
            assert rows == {"memory": "sent", "discord": "failed"}
        assert {a.text.split(":")[0] for a in app.alerts} == {
            f"{i.key} could not be posted on discord" for i in items}
    finally:
        await app.stop()
