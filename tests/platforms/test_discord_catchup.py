"""Discord backfill stays bounded (issue 16, finding 9): the bot's own threads are read
even if it never saw a message there; threads long over are retired, and a cap keeps a
restart from costing one request per thread ever saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.discord.catchup import MAX_THREADS, plan

NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
CHANNEL = 1_000


def _at(days_ago: float) -> int:
    return discord.utils.time_snowflake(NOW - timedelta(days=days_ago))


def test_the_bots_own_unseen_thread_is_read_and_old_threads_retired() -> None:
    fresh, old, seen = _at(0.1), _at(40), _at(2)
    cursor = {"channel": str(_at(0.2)), f"thread:{old}": str(_at(39)),
              f"thread:{seen}": str(_at(1))}
    sources, retired = plan(cursor, [fresh], CHANNEL, NOW)
    assert [s.key for s in sources] == ["channel", f"thread:{fresh}", f"thread:{seen}"]
    assert retired == [f"thread:{old}"]


@given(st.lists(st.floats(min_value=0, max_value=60), max_size=200))
def test_never_more_than_the_cap_and_always_the_channel(ages: list[float]) -> None:
    threads = [_at(a) + i for i, a in enumerate(ages)]
    sources, retired = plan({}, threads, CHANNEL, NOW)
    assert sources[0].key == "channel"
    assert len(sources) <= 1 + MAX_THREADS
    kept = {s.thread_id for s in sources[1:]}
    assert kept.isdisjoint(int(k.removeprefix("thread:")) for k in retired)
