"""Each platform's scrub_payload on any JSON: never raises, never leaves the id it removes."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.platforms import registry
from bot.platforms.scrubbing import MIN_SUBSTRING

SCRUBBERS = {name: registry.load(row.scrub_payload) for name, row in registry.PLATFORMS.items()
             if row.scrub_payload}
KEYS = ["id", "id_str", "did", "href", "author_id", "author", "user", "account", "actor",
        "attributedTo", "name", "username", "acct", "text", "uri", "cid", "$type", "mentions"]

# Real ids: X, Discord and Mastodon snowflakes (digits), Bluesky DIDs.
author_ids = st.one_of(
    st.from_regex(r"[1-9][0-9]{5,19}", fullmatch=True),
    st.from_regex(r"did:plc:[a-z2-7]{24}", fullmatch=True),
)


def payloads(author_id: str) -> st.SearchStrategy[Any]:
    """Nested JSON where the id turns up as a value, inside strings and numbers, and as a key."""
    text = st.one_of(
        st.text(max_size=12),
        st.builds(lambda a, b: f"{a}{author_id}{b}", st.text(max_size=6), st.text(max_size=6)),
        st.just(author_id))
    # Stored payloads are orjson's, whose integers fit in 64 bits.
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), text,
                        st.floats(allow_nan=False, allow_infinity=False))
    if author_id.isdigit() and int(author_id) < 2**56:
        scalars = st.one_of(scalars, st.just(int(author_id)),  # X v1.1 and Discord numbers
                            st.integers(min_value=0, max_value=99).map(
                                lambda n: int(f"{n}{author_id}")).filter(lambda n: n < 2**63))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(st.sampled_from(KEYS), text), inner, max_size=5)),
        max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(st.data(), author_ids, st.sampled_from(sorted(SCRUBBERS)))
def test_scrub_payload_never_raises_and_never_leaves_the_id(data: st.DataObject, author_id: str,
                                                            platform: str) -> None:
    raw = data.draw(st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)),
                                    payloads(author_id), max_size=6))
    out = SCRUBBERS[platform](raw, author_id)
    if author_id in orjson.dumps(raw).decode():
        assert out is not None  # it was there: a payload that names them is always rewritten
    if out is not None:
        assert isinstance(out, dict)
        assert author_id not in orjson.dumps(out).decode()
    else:
        assert author_id not in orjson.dumps(raw).decode()


@settings(max_examples=50, deadline=None)
@given(st.data(), st.sampled_from(sorted(SCRUBBERS)))
def test_a_payload_without_them_is_left_alone(data: st.DataObject, platform: str) -> None:
    raw = data.draw(st.dictionaries(st.text(max_size=8), payloads("000000"), max_size=6))
    author_id = "9" * 21  # longer than any number drawn here
    if author_id not in orjson.dumps(raw).decode():
        assert SCRUBBERS[platform](raw, author_id) is None


def test_a_short_id_is_erased_only_where_it_is_the_whole_string() -> None:
    """An old Mastodon account "14": gone from its mention and reply field, not from counts."""
    assert len("14") < MIN_SUBSTRING
    raw = {"id": "11100", "replies_count": 14, "content": "<p>ward 14</p>",
           "in_reply_to_account_id": "14",
           "mentions": [{"id": "14", "username": "zq", "acct": "zq@nhs.social"}],
           "poll": {"id": "14", "votes_count": 3}}
    out = SCRUBBERS["mastodon"](raw, "14")
    assert out == {"id": "11100", "replies_count": 14, "content": "<p>ward 14</p>",
                   "in_reply_to_account_id": "erased",
                   "mentions": [{"id": "erased", "username": "Former participant",
                                 "acct": "Former participant"}],
                   "poll": {"id": "erased", "votes_count": 3}}
