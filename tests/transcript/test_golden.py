"""Golden files: the fixed sample session rendered in every format.

A change in output shows up as a diff here. If it is intended, regenerate with

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/transcript/test_golden.py

then read the diff (git diff tests/transcript/golden) before committing it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from bot.transcript import SeriesEntry, build_transcript
from bot.transcript.series import render_series_html
from bot.transcript.write import FILENAMES, chunks
from tests.transcript import sample as S

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def rendered() -> dict[str, bytes]:
    t = build_transcript(
        S.session(),
        S.items(),
        S.messages(),
        previous_participants=S.previous(),
        moderation_counts={"hidden": 1, "redacted": 1},
        reach=S.reach(),
    )
    out = {
        FILENAMES[fmt]: b"".join(c.encode() if isinstance(c, str) else c for c in chunks(t, fmt))
        for fmt in FILENAMES
    }
    series = [
        SeriesEntry(40, date(2025, 12, 17), False, 96, 21, 0, "2025-12-17/transcript.html"),
        SeriesEntry(41, date(2026, 1, 6), True, 12, 2, 2, "2026-01-06/transcript.html"),
        SeriesEntry(42, date(2026, 1, 7), False, 20, 8, 2, "2026-01-07/transcript.html"),
    ]
    out["index.html"] = render_series_html("nhssm", "NHS Social Media chat", series).encode()
    return out


@pytest.mark.parametrize("name", [*FILENAMES.values(), "index.html"])
def test_golden(name: str) -> None:
    actual = rendered()[name]
    path = GOLDEN / name
    if UPDATE or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual)
        if not UPDATE:
            pytest.fail(f"{path} did not exist; written now, check it and run again")
    assert actual == path.read_bytes(), f"{name} differs from {path}; see the module docstring"
