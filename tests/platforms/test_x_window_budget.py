"""The X search window, the search budget and the price model, as pure functions
(issue 16, findings 1 and 10); the adapter's use of them is tested against the fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from bot.platforms.x.budget import SearchBudget
from bot.platforms.x.ids import snowflake_at, snowflake_time, window_edge
from bot.platforms.x.pricing import (
    CREATE_POST_USD,
    CREATE_POST_WITH_URL_USD,
    READ_POST_USD,
    estimate,
    has_url,
)
from bot.platforms.x.window import clamp

NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def _id(days_ago: float) -> str:
    return str(snowflake_at(NOW - timedelta(days=days_ago)))


@given(st.datetimes(min_value=datetime(2011, 1, 1), max_value=datetime(2100, 1, 1)))
# A whole millisecond whose float timestamp * 1000 lands just below it (was off by 1 ms).
@example(datetime(2038, 2, 3, 21, 45, 13, 522000))
def test_snowflakes_round_trip_to_the_millisecond(when: datetime) -> None:
    """An id made for a moment reads back as that moment, floored to the millisecond."""
    aware = when.replace(tzinfo=UTC)
    back = snowflake_time(snowflake_at(aware))
    assert back <= aware < back + timedelta(milliseconds=1)


def test_old_conversations_are_retired_and_stale_cursors_moved_to_the_edge() -> None:
    cursors = {
        "hashtag": _id(9),  # a quiet spell: the last tweet seen 9 days ago
        f"conv:{_id(10)}": _id(9.5),  # last month's chat: nothing left to search
        f"conv:{_id(1)}": _id(0.5),  # yesterday's chat: fine as it is
    }
    result = clamp(cursors, NOW)
    assert result.retired == (f"conv:{_id(10)}",)
    assert result.cursors[f"conv:{_id(1)}"] == _id(0.5)
    moved = snowflake_time(result.cursors["hashtag"])
    assert window_edge(NOW) - timedelta(seconds=1) <= moved <= NOW
    assert len(result.gaps) == 1 and "hashtag" in result.gaps[0]
    assert "7-day search window" in result.gaps[0]


@given(st.lists(st.floats(min_value=0, max_value=30), max_size=20))
def test_every_cursor_left_is_inside_the_window(ages: list[float]) -> None:
    cursors = {f"conv:{_id(a)}": _id(a) for a in ages} | {"hashtag": _id(max(ages, default=0))}
    result = clamp(cursors, NOW)
    for since in result.cursors.values():
        assert snowflake_time(since) >= NOW - timedelta(days=7)


def test_the_hashtag_first_then_the_newest_conversation_then_turns() -> None:
    budget = SearchBudget()
    convs = [_id(d) for d in (3, 2, 1, 0.1)]
    assert budget.plan(convs, remaining=None, seconds_left=900, interval=15) == sorted(
        convs, key=int, reverse=True)
    # 60 cycles left and 120 searches: 2 per cycle, the hashtag's and the newest's.
    assert budget.plan(convs, remaining=120, seconds_left=900, interval=15) == [_id(0.1)]
    # 3 per cycle: the newest plus the others in turn.
    picks = [budget.plan(convs, remaining=180, seconds_left=900, interval=15)
             for _ in range(3)]
    assert all(p[0] == _id(0.1) and len(p) == 2 for p in picks)
    assert {p[1] for p in picks} == {_id(1), _id(2), _id(3)}
    # Nearly spent: the hashtag and the live question still; the rest wait.
    assert budget.plan(convs, remaining=30, seconds_left=900, interval=15) == [_id(0.1)]


def test_the_price_of_a_chat_counts_urls_apart() -> None:
    texts = ["Welcome #NHSSM", "Q1 what works? #NHSSM",
             "Thanks! Transcript: https://chat.example/archive/3 #NHSSM"]
    assert [has_url(t) for t in texts] == [False, False, True]
    cost = estimate(texts, duration_seconds=3600, poll_seconds=15, expected_replies=200)
    assert cost.posts == 3 and cost.posts_with_url == 1
    assert cost.posting_usd == 2 * CREATE_POST_USD + CREATE_POST_WITH_URL_USD
    assert cost.reading_usd == 200 * READ_POST_USD
    assert cost.searches == (3600 // 15 + 1) * 2
