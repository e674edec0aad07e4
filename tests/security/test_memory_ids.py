"""Finding 8 (in part) of issue 12: the memory platform's ids are unique across restarts,
so posts after a restart no longer overwrite earlier ones in the archive."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from tests.conftest import make_settings, write_script


async def test_a_restarted_memory_platform_never_reuses_an_id(tmp_path: Path) -> None:
    write_script(tmp_path / "chats")
    seen: list[str] = []
    for _ in range(2):  # the same chat, the same archive, two processes' worth of platform
        app = App(make_settings(tmp_path), platform_override=["memory"], with_web=False,
                  with_scheduler=False)
        await app.start()
        try:
            platform = app.chats["test"].platforms["memory"]
            for n in range(3):
                seen.append(platform.say("Ann", f"A1 said {n}").id)  # type: ignore[attr-defined]
        finally:
            await app.stop()
    assert len(set(seen)) == 6
