"""A power-cut drill: `tweetchat run` on the web room, SIGKILLed again and again while people post.

The bot runs as `python -m bot run` in its own process (a fresh archive, one web chat, a
paced rehearsal started through the control API). Participants, each on its own
WebSocket, keep posting; at random moments the bot is killed with SIGKILL (no chance to
flush or say goodbye) and started again with the same command, which resumes the session.
The participants reconnect and carry on; a message whose acknowledgement the kill cut off
is not sent again (so any duplicate is the server's doing). After the last restart the
session runs to its end and the archive is read: every acknowledged message stored once,
no text stored twice, every scripted item posted exactly once.

Used by `tests/security/test_sigkill_web.py` (a few kills) and `bench/bench_sigkill.py`
(twenty). Needs loopback only.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
CHAT = "drill"
TOKEN = "crash-drill-moderator-token"
SCRIPT = """\
id: drill
title: "Crash drill"
hashtag: "#Drill"
timezone: Europe/London
host: "Drill Host"
schedule:
  weekly: {day: monday, start: "03:00"}
  duration: 10m
platforms: [web]
welcome: Welcome to the crash drill.
questions:
  - {number: 1, at: 1m, text: "Q1 What is the first thing you check?"}
  - {number: 2, at: 3m, text: "Q2 What would you change?"}
  - {number: 3, at: 5m, text: "Q3 Who else should know?"}
  - {number: 4, at: 7m, text: "Q4 What will you do next week?"}
closing:
  at: 9m
  text: Thanks, the drill is over.
"""


@dataclass
class DrillResult:
    """What the archive held after the drill, and what the participants were told."""

    kills: int = 0
    sent: int = 0  # messages the participants sent
    acked: dict[str, str] = field(default_factory=dict)  # text -> id the bot acknowledged
    stored: Counter[str] = field(default_factory=Counter)  # participant text -> times stored
    lost: list[str] = field(default_factory=list)  # acknowledged, not stored
    duplicated: list[str] = field(default_factory=list)  # stored more than once
    host_posts: Counter[str] = field(default_factory=Counter)  # host text -> times posted
    items: dict[str, str] = field(default_factory=dict)  # item key -> status
    session_status: str = ""
    seconds: float = 0.0
    first_start_seconds: float = 0.0  # a clean start, until /api/status answers
    restart_seconds: list[float] = field(default_factory=list)  # after each SIGKILL


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Participants(threading.Thread):
    """People posting over WebSockets, reconnecting whenever the bot goes away."""

    def __init__(self, url: str, count: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.url, self.count, self.interval = url, count, interval
        self.stop = threading.Event()
        self.sent = 0
        self.acked: dict[str, str] = {}

    def run(self) -> None:
        """Post until stopped (in this thread's own event loop)."""
        asyncio.run(self._all())

    async def _all(self) -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(self._one(session, n) for n in range(self.count)))

    async def _one(self, session: aiohttp.ClientSession, who: int) -> None:
        number = 0
        while not self.stop.is_set():
            try:
                async with session.ws_connect(f"{self.url}/chats/{CHAT}/ws") as ws:
                    await ws.send_json({"type": "join", "key": f"drill-participant-{who:04d}",
                                        "name": f"Drill person {who}"})
                    while not self.stop.is_set():
                        number += 1
                        text = f"A1 drill message {who}-{number} #Drill"
                        self.sent += 1
                        await ws.send_json({"type": "send", "text": text, "nonce": text})
                        if await _acked(ws, text, self.acked) == "closed":
                            return  # the session is over
                        await asyncio.sleep(self.interval)
            except (aiohttp.ClientError, OSError, RuntimeError):  # OSError: timeouts too
                pass  # the bot is down: try again shortly (the message in flight is not resent)
            await asyncio.sleep(0.2)


async def _acked(ws: aiohttp.ClientWebSocketResponse, nonce: str, acked: dict[str, str]
                 ) -> str:
    """Read frames until the answer to `nonce`: "ack", "closed", or "error"."""
    while True:
        msg = await ws.receive(timeout=10)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError("the socket closed")
        frame = json.loads(msg.data)
        if frame.get("nonce") != nonce:
            continue
        if frame["type"] == "ack":
            acked[nonce] = frame["id"]
            return "ack"
        return "closed" if frame.get("code") == "closed" else "error"


class Bot:
    """`python -m bot run` in a directory of its own, started and killed on demand."""

    def __init__(self, work: Path, port: int) -> None:
        self.work, self.port = work, port
        self.url = f"http://127.0.0.1:{port}"
        (work / "chats").mkdir(parents=True, exist_ok=True)
        (work / "chats" / f"{CHAT}.yaml").write_text(SCRIPT)
        # Generous per-person limits: the drill is about crashes, not the flood guard.
        (work / "settings.toml").write_text("[web]\nmessages_per_minute = 1000\n"
                                            "messages_per_minute_per_address = 10000\n")
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "MODERATOR_TOKEN": TOKEN,
                    "TWEETCHAT_CONFIG": str(work / "settings.toml"),
                    "TWEETCHAT_ARCHIVE": str(work / "archive.db"),
                    "TWEETCHAT_TRANSCRIPTS_DIR": str(work / "transcripts"),
                    "TWEETCHAT_CHATS_DIR": str(work / "chats"), "TWEETCHAT_PORT": str(port)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = (work / "bot.log").open("ab")

    def start(self) -> float:
        """Start the bot and wait until it answers; the seconds that took."""
        began = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=self.work,
                                     env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tweetchat run exited with {self.proc.returncode}; "
                                   f"see {self.work / 'bot.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2):
                    return time.monotonic() - began
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("tweetchat run did not come up in 120 s")

    def kill(self) -> None:
        """Pull the plug: SIGKILL, no clean-up of any kind."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """Stop it the ordinary way (SIGTERM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def api(self, path: str, body: dict | None = None) -> dict:
        """Call the control API with the moderator's Bearer token."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method="POST" if body is not None else "GET",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))


def run_drill(work: Path, *, kills: int, pace: float, participants: int = 4,
              interval: float = 0.25, up_seconds: tuple[float, float] = (0.5, 3.0),
              seed: int = 12) -> DrillResult:
    """Kill the bot `kills` times during one paced session while people post; the outcome."""
    from bot.archive import Archive

    rng = random.Random(seed)
    bot = Bot(work, free_port())
    result = DrillResult()
    started = time.monotonic()
    people = Participants(bot.url, participants, interval)
    try:
        result.first_start_seconds = round(bot.start(), 2)
        session_id = int(bot.api("/api/sessions", {"chat": CHAT, "pace": pace,
                                                   "rehearsal": True})["session"]["id"])
        people.start()
        for _ in range(kills):
            time.sleep(rng.uniform(*up_seconds))
            bot.kill()
            result.kills += 1
            result.restart_seconds.append(round(bot.start(), 2))  # the same command again
        deadline = time.monotonic() + 600 / pace + 120
        while bot.api(f"/api/sessions/{session_id}")["status"] != "ended":
            if time.monotonic() > deadline:
                raise RuntimeError("the resumed session never ended")
            time.sleep(0.2)
    finally:
        people.stop.set()
        people.join(timeout=30)
        bot.stop()
    result.seconds = round(time.monotonic() - started, 1)
    result.sent, result.acked = people.sent, dict(people.acked)
    archive = Archive(work / "archive.db")
    try:
        result.session_status = archive.session(session_id).status
        result.items = {i.key: i.status for i in archive.items(session_id)}
        by_id = {}
        for m in archive.messages(session_id):
            if m.is_host:
                result.host_posts[m.text] += 1
            else:
                result.stored[m.text] += 1
                by_id[m.id] = m.text
    finally:
        archive.close()
    result.lost = sorted(t for t, i in result.acked.items() if by_id.get(i) != t)
    result.duplicated = sorted(t for t, n in result.stored.items() if n > 1)
    return result


__all__ = ["DrillResult", "run_drill"]
