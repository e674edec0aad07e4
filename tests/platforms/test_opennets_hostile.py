"""Whatever Bluesky or Mastodon sends, the converters either make a Message or refuse with
their own error: never another exception, never unbounded text."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.importers.common import Parsed
from bot.platforms.bluesky.importer import records as bluesky_records
from bot.platforms.bluesky.posts import BadPost, feed_views, thread_views, view_message
from bot.platforms.mastodon.importer import records as mastodon_records
from bot.platforms.mastodon.statuses import BadStatus, status_message

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(
    max_size=30)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["uri", "cid", "record", "author", "text", "createdAt", "reply",
                         "parent", "root", "did", "handle", "id", "account", "content",
                         "created_at", "reblog", "posts", "feed", "thread", "replies", "post",
                         "in_reply_to_id", "spoiler_text", "mentions", "acct", "url",
                         "descendants", "$type"]), inner, max_size=6),
    max_leaves=25)


def post_like() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "uri": st.sampled_from(["at://did:plc:a/app.bsky.feed.post/3k", "nope", 5]),
        "record": st.fixed_dictionaries({"text": scalars, "createdAt": scalars,
                                         "reply": json_values}),
        "author": st.fixed_dictionaries({"did": scalars, "handle": scalars}),
    })


@settings(max_examples=150, deadline=None)
@given(json_values | post_like())
def test_bluesky_payloads_become_posts_or_bad_posts(value: Any) -> None:
    try:
        message = view_message(value, {})
    except BadPost:
        return
    assert message.id.startswith("at://") and len(message.text) <= 10_000


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_bluesky_responses_never_break_the_walkers(value: Any) -> None:
    if isinstance(value, dict):
        assert all(isinstance(v, dict) for v in feed_views(value))
    assert all(isinstance(v, dict) for v in thread_views(value))
    try:
        parsed = list(bluesky_records(1, value))
    except ValueError:
        return
    assert all(isinstance(p, Parsed) for p in parsed)


@settings(max_examples=150, deadline=None)
@given(json_values | st.fixed_dictionaries({
    "id": st.sampled_from(["113", 113, "x", None]), "created_at": scalars,
    "account": json_values, "content": scalars, "mentions": json_values}))
@example({"descendants": 1, "reblog": True})  # a context whose descendants are not a list
def test_mastodon_payloads_become_statuses_or_bad_statuses(value: Any) -> None:
    try:
        message = status_message(value, {})
    except BadStatus:
        return
    assert message is None or (message.id.isdigit() and isinstance(message.text, str))
    try:
        parsed = list(mastodon_records(1, value))
    except ValueError:
        return
    assert all(isinstance(p, Parsed) for p in parsed)
