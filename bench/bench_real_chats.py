"""Real-looking chats through the importers: are answers placed, is everything kept?

    python -m bench.bench_real_chats

For every tag style hosts use (`**Q1**`, `Question 1:`, `Q1/4`, untagged, ...), the chat
from bot/testing/real_chats.py is imported as DiscordChatExporter files (channel only, and
with question threads) and as twarc2 pages (questions threaded as replies, with escaped
text, t.co links, a long post, an edit and a retweet). Measured against the answer key:

- answers placed under the right question (target >= 98%);
- host posts counted as a participant's (target 0);
- messages missing from the CSV and the JSON, retweets apart (target 0);
- double-escaped entities and t.co links in what readers see (target 0);
- messages stored per edited tweet (target 1).

Prints a table and writes bench/results/real_chats.json.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.archive import Archive  # noqa: E402
from bot.platforms.discord.importer import import_discord  # noqa: E402
from bot.platforms.x.importer import import_x  # noqa: E402
from bot.script import ChatScript, load_script  # noqa: E402
from bot.testing.real_chats import (  # noqa: E402
    SCRIPT_YAML,
    STYLES,
    Chat,
    make_chat,
    write_discord,
    write_x,
)
from bot.transcript import build_transcript  # noqa: E402
from bot.transcript.render_csv import render_csv  # noqa: E402
from bot.transcript.render_json import render_json  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "real_chats.json"
HOSTS = {"discord": {"1", "2"}, "x": {"900", "901"}}


def _json_ids(doc: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    stack: list[Any] = [doc["welcome"], doc["wrapup"], *doc["questions"], *doc["unplaced"]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "id" in node and "author" in node:
                found.add(node["id"])
            stack.extend(v for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def measure(archive: Archive, sid: int, chat: Chat, platform: str,
            facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every figure for one imported session, against the chat's answer key."""
    messages = {m.id: m for m in archive.messages(sid)}
    answers = {str(i): q for i, q in chat.expected.items() if q is not None}
    right = sum(1 for i, q in answers.items() if i in messages and messages[i].question == q)
    t = build_transcript(archive.session(sid), archive.items(sid), list(messages.values()))
    rows = list(csv.DictReader(io.StringIO(render_csv(t))))
    in_json = _json_ids(json.loads(render_json(t)))
    expected = {str(p.id) for p in chat.posts}
    shown = [r["text"] for r in rows]
    out = {
        "answers": len(answers),
        "placed_right": right,
        "host_posts_as_participant": sum(1 for p in t.participants
                                         if p.author_id in HOSTS[platform] and not p.is_host),
        "missing_from_csv": len(expected - {r["id"] for r in rows}),
        "missing_from_json": len(expected - in_json),
        "double_escaped": sum(text.count("&amp;") + text.count("&lt;") + text.count("&gt;")
                              for text in shown),
        "tco_links": sum(text.count("https://t.co/") for text in shown),
    }
    if facts is not None:
        edited = facts["edited"]
        out["messages_per_edited_tweet"] = sum(1 for i in messages if i in
                                               (edited, str(int(edited) + 500_000)))
        out["retweets_kept"] = int(facts["retweet"] in messages)
    return out


def run_discord(script: ChatScript, style: str, threads: bool, tmp: Path) -> dict[str, Any]:
    chat = make_chat(style, threads=threads)
    paths = write_discord(chat, tmp)
    archive = Archive(tmp / "discord.db")
    (sid,) = import_discord(archive, paths, script).sessions
    try:
        return measure(archive, sid, chat, "discord")
    finally:
        archive.close()


def run_x(script: ChatScript, style: str, tmp: Path) -> dict[str, Any]:
    chat = make_chat(style)
    facts = write_x(chat, tmp / "tweets.jsonl")
    archive = Archive(tmp / "x.db")
    (sid,) = import_x(archive, tmp / "tweets.jsonl", script).sessions
    try:
        return measure(archive, sid, chat, "x", facts)
    finally:
        archive.close()


def main() -> int:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as d:
        base = Path(d)
        (base / "chats").mkdir()
        (base / "chats" / "chat.yaml").write_text(SCRIPT_YAML.replace("{id}", "chat"))
        script = load_script(base / "chats" / "chat.yaml")
        for style in STYLES:
            for name in ("discord", "discord+threads", "x"):
                work = base / f"{style}-{name}"
                work.mkdir()
                results[f"{style}/{name}"] = (
                    run_x(script, style, work) if name == "x"
                    else run_discord(script, style, name.endswith("threads"), work))
    total = {k: sum(r.get(k, 0) for r in results.values())
             for k in ("answers", "placed_right", "host_posts_as_participant",
                       "missing_from_csv", "missing_from_json", "double_escaped", "tco_links")}
    x_runs = [r for k, r in results.items() if k.endswith("/x")]
    summary = {
        **total,
        "placed_right_share": round(total["placed_right"] / total["answers"], 4),
        "worst_run_share": round(min(r["placed_right"] / r["answers"]
                                     for r in results.values()), 4),
        "max_messages_per_edited_tweet": max(r["messages_per_edited_tweet"] for r in x_runs),
        "retweets_kept": sum(r["retweets_kept"] for r in x_runs),
    }
    print(f"{'run':<30}{'placed':>12}{'host as p.':>11}{'csv miss':>9}{'json miss':>10}"
          f"{'&amp;':>6}{'t.co':>6}")
    for key, r in results.items():
        print(f"{key:<30}{r['placed_right']:>5}/{r['answers']:<6}"
              f"{r['host_posts_as_participant']:>11}{r['missing_from_csv']:>9}{r['missing_from_json']:>10}{r['double_escaped']:>6}"
              f"{r['tco_links']:>6}")
    print("summary:", json.dumps(summary))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "real_chats", "summary": summary,
                                   "runs": results}, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
