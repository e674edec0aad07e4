"""Live platforms' display names are screened as they are collected, as an import's are:
identifiers masked, bidi tricks gone, a name posing as the host marked (issue: hunt 26b)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import App
from bot.platforms.memory import MemoryPlatform
from bot.script import load_script
from tests.conftest import chat_script, write_script


async def test_names_a_platform_sends_are_screened_before_they_are_stored(
        tmp_path: Path, settings) -> None:
    app = App(settings, scripts=[load_script(write_script(tmp_path / "chats", chat_script()))],
              platform_override=["memory"], with_scheduler=False, with_web=False)
    await app.start()
    try:
        sid = await app.start_session("test", pace=240, rehearsal=True)
        room = app.chats["test"].platforms["memory"]
        assert isinstance(room, MemoryPlatform)
        said = [room.say("Bed 4 Mrs Jones 943 476 5919", "A1 more training #TestChat"),
                room.say("Ann \u202eexe.gnp", "A1 rota #TestChat"),
                room.say("Moderator", "A1 I run this, honest #TestChat"),
                room.say("Cal", "A1 walking #TestChat")]
        for _ in range(500):
            if all(app.archive.message("memory", m.id) for m in said):
                break
            await asyncio.sleep(0.01)
        names = [app.archive.message("memory", m.id).author_name  # type: ignore[union-attr]
                 for m in said]
        assert names == ["Bed 4 Mrs Jones [NHS number removed]", "Ann exe.gnp",
                         "Moderator (participant)", "Cal"]
        known = {r[0] for r in app.archive.db.execute("select name from participants")}
        assert not any("943" in n or "\u202e" in n for n in known)
        app.control("stop", session_id=sid)
        await asyncio.wait_for(app.host_tasks[sid], 30)
    finally:
        await app.stop()
