"""The import commands screen under the bot's moderation policy and say what they flagged;
`tweetchat review` then lists the import's items, the crisis one saying no signpost went out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.importers.screening_inputs import CHATS, CHECKS, NEEDLES

REPO = Path(__file__).resolve().parents[2]


def cli(tmp: Path, *args: str, policy: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp / "settings.toml"
    (tmp / "moderation.toml").write_text(policy, encoding="utf-8")
    config.write_text(f'[moderation]\npolicy = "{tmp / "moderation.toml"}"\n', encoding="utf-8")
    env = {**os.environ, "TWEETCHAT_CONFIG": str(config),
           "TWEETCHAT_ARCHIVE": str(tmp / "archive.db"), "COLUMNS": "300",
           "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=env, cwd=tmp, timeout=300, check=False)


@pytest.mark.parametrize("platform", ["mastodon", "discord"])
def test_import_then_review(platform: str, tmp_path: Path) -> None:
    chat = CHATS[platform](tmp_path)
    host = ["--host", "nhssm"] if platform == "mastodon" else []
    done = cli(tmp_path, "import", platform, str(chat.path), "--script", str(chat.script.path),
               *host)
    assert done.returncode == 0, done.stderr
    assert "Flagged by moderation" in done.stdout and "3 (masked or held" in done.stdout
    review = cli(tmp_path, "review", "--json")
    items = json.loads(review.stdout)
    assert sorted(i["check"] for i in items) == CHECKS
    assert all(i["session_id"] == 1 for i in items)
    (crisis,) = [i for i in items if i["check"] == "crisis"]
    assert "no signpost was sent" in crisis["reason"]
    shown = [i["shown"] or "" for i in items]
    assert not [n for n in NEEDLES for s in shown if n in s]


def test_the_policy_file_is_the_bots_own(tmp_path: Path) -> None:
    chat = CHATS["discord"](tmp_path)
    done = cli(tmp_path, "import", "discord", str(chat.path), "--script", str(chat.script.path),
               policy="[checks.crisis]\nenabled = false\n[checks.abuse]\nenabled = false\n")
    assert done.returncode == 0, done.stderr
    items = json.loads(cli(tmp_path, "review", "--json").stdout)
    assert sorted(i["check"] for i in items) == [c for c in CHECKS if c not in ("crisis", "abuse")]
    broken = cli(tmp_path, "import", "discord", str(chat.path), "--script",
                 str(chat.script.path), policy="[checks.nope]\n")
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert "nope" in broken.stdout + broken.stderr
