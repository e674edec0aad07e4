"""Benchmark: pulling the plug on `tweetchat run` twenty times while people post in the web room.

Finding 8 of issue 12. The drill (bot/testing/crash_drill.py) runs the bot as
`python -m bot run` in its own process, starts a paced rehearsal on the web platform
through the control API, and lets four participants post over their WebSockets; the bot
is SIGKILLed at random moments, `--kills` times, and started again with the same command
each time (the participants reconnect). Then the session runs to its end and the archive
is read.

Counted: messages sent and acknowledged, acknowledged messages missing from the archive
(lost), texts stored twice (duplicated), scripted items posted twice or never. Timed in
the same run: the bot's clean start (the floor) against each restart after a SIGKILL.
Prints a table, writes bench/results/sigkill.json.

    .venv/bin/python bench/bench_sigkill.py
    .venv/bin/python bench/bench_sigkill.py --kills 5 --pace 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import print_table, ratio, save  # noqa: E402
from bot.testing.crash_drill import run_drill  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--pace", type=float, default=3.0,
                        help="rehearsal pace (the 10-minute script lasts 600/pace seconds)")
    parser.add_argument("--participants", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sigkill-"))
    r = run_drill(work, kills=args.kills, pace=args.pace, participants=args.participants)
    twice = sorted(t for t, n in r.host_posts.items() if n > 1)
    unsent = sorted(k for k, status in r.items.items() if status != "sent")
    restart = statistics.median(r.restart_seconds) if r.restart_seconds else 0.0
    print_table(
        f"{r.kills} SIGKILLs of tweetchat run on the web room, {args.participants} people "
        f"posting ({r.seconds} s)",
        ["measure", "value", "floor", "ratio"],
        [["messages sent / acknowledged", f"{r.sent} / {len(r.acked)}", "", ""],
         ["acknowledged but lost", len(r.lost), "", ""],
         ["stored twice", len(r.duplicated), "", ""],
         ["items posted twice / never", f"{len(twice)} / {len(unsent)}", "", ""],
         ["session at the end", r.session_status, "", ""],
         ["restart after SIGKILL, median s", restart, r.first_start_seconds,
          ratio(restart, r.first_start_seconds)],
         ["restart after SIGKILL, max s", max(r.restart_seconds, default=0.0),
          r.first_start_seconds,
          ratio(max(r.restart_seconds, default=0.0), r.first_start_seconds)]])
    save("sigkill", {
        "kills": r.kills, "pace": args.pace, "participants": args.participants,
        "seconds": r.seconds, "sent": r.sent, "acknowledged": len(r.acked),
        "stored": sum(r.stored.values()), "lost": r.lost, "duplicated": r.duplicated,
        "host_posts_twice": twice, "items_not_sent": unsent, "items": r.items,
        "session_status": r.session_status, "first_start_seconds": r.first_start_seconds,
        "restart_seconds": r.restart_seconds})
    if r.lost or r.duplicated or twice or unsent:
        sys.exit(1)


if __name__ == "__main__":
    main()
