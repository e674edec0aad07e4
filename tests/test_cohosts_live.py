"""Co-hosts live: what a co-host's account posts during the hour is the host's, never a
participant's answer; someone merely taking a co-host's display name is still a participant."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import App
from bot.platforms.memory import MemoryPlatform
from bot.script import load_script
from tests.conftest import chat_script, write_script


async def test_a_cohost_posting_live_is_stored_as_the_host(tmp_path: Path, settings) -> None:
    text = chat_script().replace("host: Host\n", "host: Host\nhosts: [\"@jo_cohost\"]\n")
    script = load_script(write_script(tmp_path / "chats", text))
    app = App(settings, scripts=[script], platform_override=["memory"],
              with_scheduler=False, with_web=False)
    await app.start()
    try:
        room = app.chats["test"].platforms["memory"]
        assert isinstance(room, MemoryPlatform)
        sid = await app.start_session("test", pace=240, rehearsal=True)
        cohost = room.say("jo_cohost", "Q1 again for latecomers: what works? #TestChat")
        lookalike = room.say("Jo Cohost", "A1 I'm Jo, honestly #TestChat")
        ann = room.say("Ann", "A1 more training #TestChat")
        for _ in range(500):
            if all(app.archive.message("memory", m.id) for m in (cohost, lookalike, ann)):
                break
            await asyncio.sleep(0.01)
        stored = {m.id: app.archive.message("memory", m.id) for m in (cohost, lookalike, ann)}
        assert stored[cohost.id] is not None and stored[cohost.id].is_host
        assert stored[lookalike.id] is not None and not stored[lookalike.id].is_host
        assert stored[ann.id] is not None and not stored[ann.id].is_host
        app.control("stop", session_id=sid)
        await asyncio.wait_for(app.host_tasks[sid], 30)
        people = {m.author_id for m in app.archive.messages(sid) if not m.is_host}
        assert "jo_cohost" not in people and {"ann", "jo cohost"} <= people
    finally:
        await app.stop()
