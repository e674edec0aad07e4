"""What adapters remember is bounded, and the Jetstream sieve never copies it.

RecentMap/RecentSet behave as a dict/set holding the `capacity` most recently used keys
(checked against a model under any sequence of operations); each adapter's memory of ids,
CIDs, roots, authors and channels is one of them; and Bluesky's Jetstream sieve, which
runs for every reply on the whole network, answers by membership tests, never by copying
everything seen (it built `seen | watched` per reply commit: 10 ms at 100,000 seen).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.base import ChatContext
from bot.platforms.bluesky.adapter import BlueskyPlatform
from bot.platforms.bluesky.jetstream import Commit
from bot.platforms.mastodon.adapter import MastodonPlatform
from bot.platforms.recent import RecentMap, RecentSet
from bot.platforms.x.adapter import XPlatform

OPS = st.lists(st.tuples(st.sampled_from(["set", "get", "del"]), st.integers(0, 12),
                         st.integers()), max_size=80)


@given(capacity=st.integers(1, 6), ops=OPS)
def test_recent_map_is_a_dict_of_the_most_recently_used(
        capacity: int, ops: list[tuple[str, int, int]]) -> None:
    recent: RecentMap[int, int] = RecentMap(capacity)
    model: dict[int, int] = {}  # insertion order = use order, oldest first
    for op, key, value in ops:
        if op == "set":
            model.pop(key, None)
            model[key] = value
            while len(model) > capacity:
                del model[next(iter(model))]
            recent[key] = value
        elif op == "get" and key in model:
            model[key] = model.pop(key)
            assert recent[key] == model[key]
        elif op == "del" and key in model:
            del model[key]
            del recent[key]
        assert dict(recent._items) == model and list(recent) == list(model)
        assert len(recent) <= capacity


@given(capacity=st.integers(1, 6), values=st.lists(st.integers(0, 12), max_size=60))
def test_recent_set_keeps_the_newest_members(capacity: int, values: list[int]) -> None:
    recent: RecentSet[int] = RecentSet(capacity)
    recent.update(values)
    newest = list(dict.fromkeys(reversed(values)))[:capacity]
    assert set(recent) == set(newest) and len(recent) == len(newest)
    for value in newest:
        recent.discard(value)
    assert len(recent) == 0


def test_every_adapter_remembers_within_bounds() -> None:
    ctx = ChatContext("c", "Chat", "#NHSSM", {})
    bluesky, mastodon, x = BlueskyPlatform(ctx), MastodonPlatform(ctx), XPlatform(ctx)
    memories = [bluesky._seen, bluesky._cids, bluesky._roots, mastodon._seen,
                mastodon._edits, mastodon._roots, mastodon._authors, mastodon._accts,
                x._seen, x._conversation_of]
    assert all(isinstance(m, RecentMap | RecentSet) for m in memories)


class NoCopying(RecentSet[str]):
    """A seen-set that fails the test if anyone walks through it."""

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the sieve walked through everything seen")


def _reply(parent: str, root: str) -> Commit:
    record: dict[str, Any] = {"text": "me too", "reply": {"root": {"uri": root, "cid": "r"},
                                                           "parent": {"uri": parent,
                                                                      "cid": "p"}}}
    return Commit("create", "at://did:plc:b/app.bsky.feed.post/3kz", 1, record)


def test_the_jetstream_sieve_tests_membership_without_copying() -> None:
    bot = BlueskyPlatform(ChatContext("c", "Chat", "#NHSSM", {}))
    bot._seen = NoCopying()
    bot._seen.update(f"at://did:plc:a/app.bsky.feed.post/{n}" for n in range(1_000))
    bot.watch("at://did:plc:bot/app.bsky.feed.post/root")
    seen = "at://did:plc:a/app.bsky.feed.post/7"
    other = "at://did:plc:z/app.bsky.feed.post/elsewhere"
    assert bot._wanted(_reply(seen, other))
    assert bot._wanted(_reply(other, "at://did:plc:bot/app.bsky.feed.post/root"))
    assert not bot._wanted(_reply(other, other))
