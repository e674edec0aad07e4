"""The fast import path stores exactly what the import stored before it was made fast.

`golden/import_equivalence.json` is the dump (tests/importers/equivalence_fixtures.py) of
archives filled by the importers as they were before issue 15's speed work (main at
87b0def, message_reach included), from the same
fixture files: entities, edits, long posts, media, quotes, retweets, v1.1 and flattened
lines, forwards, system messages, attachments, HTML in text and names. Each import runs
twice and the archive is compared after each run: the code of 87b0def left the same
archive after the first import as after the second (checked when this was added), so a
first import that only a re-import repairs is caught too. A difference names the table
and the first row that differs. Two corrections since: a participant's `first_seen` is
their earliest message (87b0def kept the first one read, the newest in a newest-first
file; four values changed), and the X report's lines read is 10, the fixture's lines
(87b0def counted the edited tweet's line again when it merged the versions at the end).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.platforms.discord.importer import import_discord
from bot.platforms.x.importer import import_x
from bot.script import load_script
from tests.importers.equivalence_fixtures import SCRIPT, import_twice, write_discord, x_lines

GOLDEN = Path(__file__).with_name("golden") / "import_equivalence.json"


def import_both(tmp_path: Path) -> dict[str, Any]:
    """Dumps of an archive filled from the X fixture and of one filled from Discord's."""
    chats = tmp_path / "chats"
    chats.mkdir()
    (chats / "equiv.yaml").write_text(SCRIPT)
    script = load_script(chats / "equiv.yaml")
    x_file = tmp_path / "x.jsonl"
    x_file.write_bytes(b"\n".join(x_lines()) + b"\n")
    discord_files = write_discord(tmp_path)
    out: dict[str, Any] = {}
    for name, run in (("x", lambda a: import_x(a, x_file, script)),
                      ("discord", lambda a: import_discord(a, discord_files, script))):
        archive = Archive(tmp_path / f"{name}.db")
        try:
            reports, dumps = import_twice(archive, run)
            out[name] = {"dumps": dumps,
                         "reports": [[r.read, r.messages, r.changed, r.bad_lines, r.sessions,
                                      r.host_posts, r.skipped] for r in reports]}
        finally:
            archive.close()
    # Through JSON, as the golden file went: tuples become lists, keys strings.
    return json.loads(json.dumps(out))


@pytest.mark.parametrize("platform", ["x", "discord"])
def test_import_stores_exactly_what_it_stored_before(tmp_path: Path, platform: str) -> None:
    golden = json.loads(GOLDEN.read_text())[platform]
    got = import_both(tmp_path)[platform]
    assert got["reports"] == golden["reports"]
    for run, dumped in zip(("first import", "re-import"), got["dumps"], strict=True):
        for table, rows in golden["dump"].items():
            mine = dumped[table]
            first = next((i for i, (a, b) in enumerate(zip(mine, rows, strict=False))
                          if a != b), None)
            assert len(mine) == len(rows) and first is None, (
                f"{platform} {table} after the {run}: {len(mine)} rows, golden {len(rows)}; "
                f"first difference at {first}: {mine[first] if first is not None else ''} != "
                f"{rows[first] if first is not None else ''}")
        assert dumped.keys() == golden["dump"].keys()


def test_the_fixtures_hold_every_feature_the_golden_file_was_made_for() -> None:
    """The comparison means something only if the fixtures exercise each feature."""
    x = json.loads(GOLDEN.read_text())["x"]["dump"]
    texts = {m["id"]: m["text"] for m in x["messages"]}
    assert texts["2500"] == "A1 the photo" and x["message_edits"]  # an edit, merged
    assert texts["3100"].endswith("word79 #NHSSM")  # a long post, whole
    assert "https://example.org/walks?a=1&b=2" in texts["2100"]  # link expanded, unescaped
    assert "2300" not in texts  # the retweet left out
    assert {"3400", "3500"} <= texts.keys()  # flattened and v1.1 lines
    assert {m["section"] for m in x["messages"]} >= {"question", "host", "wrapup"}
    d = json.loads(GOLDEN.read_text())["discord"]["dump"]
    dtexts = {m["id"]: m["text"] for m in d["messages"]}
    assert "1003" not in dtexts and "2000" not in dtexts  # system messages kept out
    assert dtexts["1008"].startswith("[forwarded]")
    assert "[file: rota.pdf]" in dtexts["1009"] and "<script>" in dtexts["1001"]
    assert {m["method"] for m in d["messages"]} >= {"thread", "reply", "tag", "window", "host"}
    assert all(g["fts"] for g in (x, d))
    assert x["message_reach"] and d["message_reach"]  # followers and media kept beside
