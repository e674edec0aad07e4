"""Benchmark: the web room under a crowd, on loopback.

The bot runs as `tweetchat run` in its own process (fresh archive, one chat script, a paced
rehearsal started through the control API), so the load generator never competes with it
inside one interpreter. N WebSocket clients, spread over a few worker processes, join the
room; together they send `--rate` messages a second (round-robin, so nobody trips the
per-participant rate limit) while the host posts the questions.

Measured: latency from send to receipt at every client (p50, p99, max), messages lost
(an acknowledged message some client never received: must be 0), how late each question
went out against its due time (server's posted_at, and first receipt at a client), the
server's CPU (utime+stime from /proc) and its peak memory (VmHWM). Prints a table, writes
bench/results/webroom.json.

    .venv/bin/python bench/bench_webroom.py                     # 100, 500, 1000 clients
    .venv/bin/python bench/bench_webroom.py --clients 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import IO

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "webroom.json"
TOKEN = "bench-" + secrets.token_hex(12)
CHAT = "benchroom"

SCRIPT = """\
id: benchroom
title: "Web room benchmark"
hashtag: "#Bench"
timezone: Europe/London
host: "Bench Host"
schedule:
  weekly: {{day: monday, start: "03:00"}}
  duration: 60m
platforms: [web]
welcome: "Welcome to the benchmark. Answer A1, A2 ... with #Bench."
questions:
{questions}
closing:
  at: 60m
  text: That is the end of the benchmark.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_memory_mb(pid: int, field: str = "VmHWM:") -> float:
    """A process's peak resident memory (or another /proc status field, e.g. VmRSS:)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def stop_server(server: subprocess.Popen, log_file: IO[str]) -> None:
    """SIGTERM the bot (as a user's Ctrl-C would), SIGKILL if it has not gone in 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log_file.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the load: one worker process drives a slice of the clients ------------------------------

async def _worker(wid: int, clients: int, url: str, rate: float, start_at: float,
                  seconds: float, out: mp.Queue) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)
    latencies: list[float] = []
    host_first: dict[str, float] = {}  # question text -> first receipt (wall)
    received: list[set[str]] = [set() for _ in range(clients)]
    acked: dict[str, str] = {}  # nonce -> message id
    errors: list[str] = []
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def reader(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.time()
            frame = orjson.loads(msg.data)
            kind = frame.get("type")
            if kind == "message":
                m = frame["message"]
                text = m["text"]
                if m["host"]:
                    host_first.setdefault(text, now)
                elif text.startswith("bench "):
                    received[i].add(m["id"])
                    latencies.append(now - float(text.rsplit(" ", 1)[1]))
            elif kind == "ack":
                acked[frame["nonce"]] = frame["id"]
            elif kind == "error":
                errors.append(frame.get("error", "?"))

    readers = []
    for i in range(clients):
        # Each client is its own person at its own address (the bot trusts loopback as a
        # proxy here), so the per-address caps and flood checks see a crowd, not one host.
        ws = await session.ws_connect(f"{url}/chats/{CHAT}/ws", max_msg_size=0, headers={
            "X-Forwarded-For": f"10.{wid}.{i // 256}.{i % 256}"})
        await ws.send_str(orjson.dumps({"type": "join", "key": f"bench-key-{wid}-{i:06d}",
                                        "name": f"bench {wid}-{i}"}).decode())
        first = orjson.loads((await ws.receive()).data)
        assert first["type"] == "state", first
        sockets.append(ws)
        readers.append(asyncio.create_task(reader(i, ws)))
    out.put(("ready", wid))
    await asyncio.sleep(max(0.0, start_at - time.time()))
    # Send this worker's share of the rate, round-robin over its clients.
    interval = 1.0 / rate
    sent = 0
    t0 = time.time()
    while time.time() - t0 < seconds:
        target = t0 + sent * interval
        delay = target - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        ws = sockets[sent % clients]
        nonce = f"{wid}-{sent}"
        await ws.send_str(orjson.dumps({"type": "send", "nonce": nonce,
                                        "text": f"bench A1 {nonce} {time.time():.6f}"}).decode())
        sent += 1
    out.put(("sent", wid, sent))
    # Drain: wait until every ack is in and quiet has settled (bounded).
    deadline = time.time() + 30
    while len(acked) < sent - len(errors) and time.time() < deadline:
        await asyncio.sleep(0.1)
    out.put(("acked", wid, list(acked.values())))
    await asyncio.sleep(3)  # let the last broadcasts land
    out.put(("result", wid, {
        "latencies": latencies, "received": [sorted(r) for r in received],
        "host_first": host_first, "errors": errors[:20], "error_count": len(errors),
        "sent": sent,
    }))
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    await session.close()


def worker_main(wid: int, clients: int, url: str, rate: float, start_at: float,
                seconds: float, out: mp.Queue) -> None:
    asyncio.run(_worker(wid, clients, url, rate, start_at, seconds, out))


# -- one run ---------------------------------------------------------------------------------

def run_once(clients: int, *, seconds: float, rate: float, workers: int, pace: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-webroom-"))
    (tmp / "chats").mkdir()
    # Questions spread over the measured window: every `seconds/6` wall seconds.
    step_min = max(1, int(seconds * pace / 60 / 6))
    questions = "\n".join(
        f"  - {{number: {n}, at: {n * step_min}m, text: 'Benchmark question {n}?'}}"
        for n in range(1, 6))
    (tmp / "chats" / f"{CHAT}.yaml").write_text(SCRIPT.format(questions=questions))
    port = free_port()
    env = {**os.environ, "TWEETCHAT_PORT": str(port), "MODERATOR_TOKEN": TOKEN,
           "TWEETCHAT_ARCHIVE": str(tmp / "archive.db"),
           "TWEETCHAT_TRANSCRIPTS_DIR": str(tmp / "transcripts"),
           "TWEETCHAT_CHATS_DIR": str(tmp / "chats")}
    # Defaults + the above, and loopback as a trusted proxy so each client's X-Forwarded-For
    # counts as its address.
    (tmp / "settings.toml").write_text('[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    env["TWEETCHAT_CONFIG"] = str(tmp / "settings.toml")
    exe = Path(sys.executable).with_name("tweetchat")
    log_file = (tmp / "server.log").open("w")
    server = subprocess.Popen([str(exe), "run"], cwd=tmp, env=env,
                              stdout=subprocess.DEVNULL, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, server)
        ctx = mp.get_context("spawn")
        out: mp.Queue = ctx.Queue()
        per = [clients // workers + (1 if w < clients % workers else 0) for w in range(workers)]
        # Every worker joins its clients first; sending starts at one shared moment.
        start_at = time.time() + 10 + clients / 100  # generous join window
        procs = [ctx.Process(target=worker_main, args=(w, n, url, rate / workers, start_at,
                                                       seconds, out)) for w, n in enumerate(per)]
        for p in procs:
            p.start()
        ready = 0
        while ready < workers:
            msg = out.get(timeout=120)
            if msg[0] == "ready":
                ready += 1
        if time.time() > start_at:
            raise RuntimeError("clients took longer to join than the join window; "
                               "lower --clients")
        # Start the paced session so its welcome lands just before the crowd starts.
        time.sleep(max(0.0, start_at - time.time() - 0.5))
        cpu0, wall0 = proc_cpu_seconds(server.pid), time.time()
        session = _post(url, "/api/sessions", {"chat": CHAT, "pace": pace, "rehearsal": True})
        sid = session["session"]["id"]
        origin = datetime.fromisoformat(session["session"]["start"]).timestamp()
        acked: list[str] = []
        results = []
        sent = 0
        while len(results) < workers:
            msg = out.get(timeout=seconds + 120)
            if msg[0] == "acked":
                acked.extend(msg[2])
            elif msg[0] == "sent":
                sent += msg[2]
            elif msg[0] == "result":
                results.append(msg[2])
        cpu1, wall1 = proc_cpu_seconds(server.pid), time.time()
        peak = proc_memory_mb(server.pid)
        for p in procs:
            p.join(timeout=30)
        detail = _get(url, f"/api/sessions/{sid}")
        _post(url, "/api/control", {"command": "stop"})
    finally:
        stop_server(server, log_file)
    expected = set(acked)
    lost = 0
    for r in results:
        for got in r["received"]:
            lost += len(expected - set(got))
    latencies = [x for r in results for x in r["latencies"]]
    first_seen: dict[str, float] = {}
    for r in results:
        for text, at in r["host_first"].items():
            first_seen[text] = min(at, first_seen.get(text, at))
    lateness = []
    for item in detail["items"]:
        if item["number"] is None or not item["posted_at"]:
            continue
        due = origin + item["due_offset"] / pace
        posted = datetime.fromisoformat(item["posted_at"]).timestamp()
        seen = next((at for text, at in first_seen.items() if text.startswith(
            f"Q{item['number']} ")), None)
        lateness.append({"item": item["key"], "posted_late_ms": round((posted - due) * 1000, 1),
                         "first_receipt_late_ms": round((seen - due) * 1000, 1) if seen else None})
    window = wall1 - wall0
    return {
        "clients": clients, "seconds": seconds, "rate_per_second": rate, "sent": sent,
        "acknowledged": len(expected), "deliveries": len(latencies),
        "expected_deliveries": len(expected) * clients, "lost": lost,
        "refused": sum(r["error_count"] for r in results),
        "latency_ms": {"p50": round(percentile(latencies, 50) * 1000, 2),
                       "p99": round(percentile(latencies, 99) * 1000, 2),
                       "max": round(max(latencies, default=float("nan")) * 1000, 2),
                       "mean": round(statistics.fmean(latencies) * 1000, 2) if latencies
                       else None},
        "questions": lateness,
        "server_cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / window, 1),
        "server_peak_rss_mb": round(peak, 1),
        "window_seconds": round(window, 1),
    }


def _wait_up(url: str, server: subprocess.Popen) -> None:
    import urllib.request

    for _ in range(200):
        if server.poll() is not None:
            raise RuntimeError(f"tweetchat run exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not come up")


def _post(url: str, path: str, body: dict) -> dict:
    import urllib.request

    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _get(url: str, path: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"{url}{path}", timeout=10) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=20.0, help="sending time per run")
    parser.add_argument("--rate", type=float, default=20.0, help="messages a second, in total")
    parser.add_argument("--workers", type=int, default=max(1, min(4, (os.cpu_count() or 2))),
                        help="client processes")
    parser.add_argument("--pace", type=float, default=60.0, help="rehearsal pace")
    args = parser.parse_args()
    runs = []
    for n in args.clients:
        print(f"running {n} clients for {args.seconds:g} s ...", flush=True)
        runs.append(run_once(n, seconds=args.seconds, rate=args.rate, workers=args.workers,
                             pace=args.pace))
    header = (f"{'clients':>7} {'sent':>5} {'lost':>4} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8} {'Q late ms (max)':>16} {'CPU %':>6} {'peak MB':>8}")
    print(header)
    print("-" * len(header))
    for r in runs:
        late = max((q["posted_late_ms"] for q in r["questions"]), default=float("nan"))
        print(f"{r['clients']:>7} {r['sent']:>5} {r['lost']:>4} {r['latency_ms']['p50']:>8} "
              f"{r['latency_ms']['p99']:>8} {r['latency_ms']['max']:>8} {late:>16} "
              f"{r['server_cpu_percent_of_one_core']:>6} {r['server_peak_rss_mb']:>8}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "webroom", "python": platform.python_version(),
        "cpus": os.cpu_count(), "machine": platform.machine(),
        "workers": args.workers, "pace": args.pace, "runs": runs,
    }, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
