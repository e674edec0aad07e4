"""Benchmark: how late a live web room's due posts go out while a big transcript renders.

One bot in this process (real clock, fresh archive in a temporary directory): an ended
session of N messages already in the archive, and a live rehearsal of a web-room chat whose
questions fall due every second. While the questions go out, the big transcript is
rendered, three ways:

  none      no render at all (the baseline: how late posts are anyway)
  publisher through the Publisher (its worker thread; the event loop only waits)
  on loop   the old way: publish_session called on the event loop (what pages.py and
            Discord's /chat transcript used to do)

Measured per mode: how late each question went out against its due time (max and mean, in
ms), the render's own time, and how many questions fell due during the render. Prints a
table, writes bench/results/publish.json.

    .venv/bin/python bench/bench_publish.py               # 10,000 messages
    .venv/bin/python bench/bench_publish.py --messages 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.publishing import publish_session  # noqa: E402
from bot.script import ChatScript, load_script  # noqa: E402
from bot.settings import (  # noqa: E402
    ArchiveSettings,
    ChatsSettings,
    ModerationSettings,
    SchedulerSettings,
    Secrets,
    Settings,
    WebSettings,
)
from bot.testing.crowd import archived_session  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "publish.json"
QUESTIONS = 20
PACE = 60.0  # one script minute a second: a question falls due every second

SCRIPT = """\
id: benchpublish
title: "Publish benchmark"
hashtag: "#Bench"
timezone: Europe/London
host: "Bench Host"
schedule:
  weekly: {{day: monday, start: "03:00"}}
  duration: 60m
platforms: [web]
welcome: Welcome to the publish benchmark.
questions:
{questions}
closing:
  at: 59m
  text: That is the end of the benchmark.
"""


def make_script(tmp: Path) -> ChatScript:
    questions = "\n".join(f"  - number: {n}\n    at: {n}m\n    text: Question {n} of the bench?"
                          for n in range(1, QUESTIONS + 1))
    path = tmp / "chats" / "benchpublish.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SCRIPT.format(questions=questions), encoding="utf-8")
    return load_script(path)


def make_settings(tmp: Path) -> Settings:
    return Settings(
        archive=ArchiveSettings(path=tmp / "archive.db", transcripts_dir=tmp / "transcripts"),
        chats=ChatsSettings(dir=tmp / "chats"),
        scheduler=SchedulerSettings(jobs_db=tmp / "jobs.db"),
        web=WebSettings(port=0),
        moderation=ModerationSettings(enabled=False),
        secrets=Secrets(moderator_token="bench-token-0123456789abcdef"),  # type: ignore[arg-type]
    )


def lateness_ms(bot: App, session_id: int, window: tuple[float, float]) -> list[float]:
    """How late each question posted inside `window` (unix seconds) went out, in ms."""
    session = bot.archive.session(session_id)
    origin = bot.archive.session_origin(session_id) or session.scheduled_start
    out = []
    for item in bot.archive.items(session_id):
        if item.number is None or item.posted_at is None:
            continue
        due = origin + timedelta(seconds=item.due_offset / session.pace)
        if window[0] <= due.timestamp() <= window[1]:
            out.append((item.posted_at - due).total_seconds() * 1000)
    return out


async def run_mode(mode: str, messages: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = make_script(tmp)
        bot = App(make_settings(tmp), scripts=[script], with_scheduler=False, with_web=False)
        await bot.start()
        try:
            old = archived_session(bot.archive, script, messages,
                                   start=datetime.now(UTC) - timedelta(days=7))
            live = await bot.start_session(script.id, pace=PACE, rehearsal=True)
            await asyncio.sleep(1.5)  # the welcome is out; questions fall due every second
            t0 = time.time()
            if mode == "publisher":
                await bot.publisher.publish(old)
            elif mode == "on loop":
                publish_session(bot.archive, old, bot.transcripts_dir)  # blocks the loop
            else:
                await asyncio.sleep(3)
            t1 = time.time()
            await asyncio.sleep(1.5)  # what fell due during the render goes out by now
            late = lateness_ms(bot, live, (t0, t1))
        finally:
            await bot.stop()
    return {
        "mode": mode, "messages": messages, "render_s": round(t1 - t0, 2),
        "posts_due_during": len(late), "max_late_ms": round(max(late), 1) if late else None,
        "mean_late_ms": round(sum(late) / len(late), 1) if late else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    rows = [asyncio.run(run_mode(mode, args.messages)) for mode in ("none", "publisher",
                                                                     "on loop")]
    print(f"{'mode':<10} {'messages':>8} {'render s':>9} {'posts due':>9} "
          f"{'max late ms':>12} {'mean late ms':>13}")
    for r in rows:
        print(f"{r['mode']:<10} {r['messages']:>8} {r['render_s']:>9} {r['posts_due_during']:>9} "
              f"{r['max_late_ms'] if r['max_late_ms'] is not None else '-':>12} "
              f"{r['mean_late_ms'] if r['mean_late_ms'] is not None else '-':>13}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "bench": "publish", "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(), "rows": rows,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
