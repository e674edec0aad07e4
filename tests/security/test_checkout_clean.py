"""Finding 12 of issue 12: running the bot as the tests do leaves nothing in the checkout.

The tests' settings point the archive and transcripts at tmp_path; the scheduler's job
store used to stay at transcripts/scheduler.db relative to the working directory (the
checkout under pytest), holding jobs that the next `make run` picked up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.clock import FakeClock
from bot.settings import load_settings
from tests import checkout
from tests.conftest import make_settings, no_settings, write_script

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_running_the_bot_from_the_checkout_writes_only_to_tmp(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(checkout.ROOT)  # as `make test` runs: relative paths land here
    before = checkout.snapshot()
    write_script(tmp_path / "chats")
    app = App(make_settings(tmp_path), platform_override=["memory"], with_web=False,
              clock=FakeClock(NOW))
    await app.start()
    try:
        assert app.scheduler is not None and app.scheduler.jobs()  # jobs were stored
    finally:
        await app.stop()
    assert checkout.changes(before, checkout.snapshot()) == []
    assert (tmp_path / "scheduler.db").is_file()  # beside the test's archive


def test_job_store_follows_the_archive_unless_set(tmp_path: Path) -> None:
    base = {"TWEETCHAT_CONFIG": str(no_settings(tmp_path))}
    moved = load_settings(environ={**base, "TWEETCHAT_ARCHIVE": str(tmp_path / "a" / "x.db")},
                          env_file=None)
    assert moved.scheduler.jobs_db == tmp_path / "a" / "scheduler.db"
    explicit = load_settings(environ={**base, "TWEETCHAT_JOBS_DB": str(tmp_path / "j.db")},
                             env_file=None)
    assert explicit.scheduler.jobs_db == tmp_path / "j.db"
    assert load_settings(environ=base, env_file=None).scheduler.jobs_db == Path(
        "transcripts/scheduler.db")
