"""X's pay-per-use price list, and what a chat will cost before it is spent.

Since 2026 X sells API access by prepaid credits, not Free/Basic tiers: each post read
is charged per post returned (once per UTC day), each post created per request, and a
post carrying a URL costs over ten times a plain one. When the credits run out every
call answers 402 until someone tops up. The figures below are X's published rates
(docs.x.com, "Pricing"); `tweetchat x check` shows them next to the estimate, and
X may change them: the Developer Console is authoritative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

READ_POST_USD = 0.005  # per post returned by search (deduplicated per UTC day)
CREATE_POST_USD = 0.015  # per post created
CREATE_POST_WITH_URL_USD = 0.200  # per post created whose text carries a URL
# Posting also has 24-hour caps per user and per app, reported in their own headers.
USER_POSTS_PER_24H = 100
APP_POSTS_PER_24H = 10_000

_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)


def has_url(text: str) -> bool:
    """Whether X would price this post as one with a URL."""
    return _URL.search(text) is not None


def create_price(text: str) -> float:
    """What creating this post costs, in US dollars."""
    return CREATE_POST_WITH_URL_USD if has_url(text) else CREATE_POST_USD


@dataclass(frozen=True)
class ChatCost:
    """The expected bill for one session of a chat on X."""

    posts: int
    posts_with_url: int
    searches: int
    expected_reads: int

    @property
    def posting_usd(self) -> float:
        """What posting the session's posts costs, in US dollars."""
        plain = self.posts - self.posts_with_url
        return plain * CREATE_POST_USD + self.posts_with_url * CREATE_POST_WITH_URL_USD

    @property
    def reading_usd(self) -> float:
        """What reading the expected replies costs, in US dollars."""
        return self.expected_reads * READ_POST_USD

    @property
    def total_usd(self) -> float:
        """Posting and reading together, in US dollars."""
        return self.posting_usd + self.reading_usd


def estimate(
    texts: list[str],
    *,
    duration_seconds: float,
    poll_seconds: float,
    expected_replies: int,
    queries_per_poll: int = 2,
) -> ChatCost:
    """One session's cost: every post the host makes, and reading the expected replies.

    Each of the `expected_replies` is read once a day (X charges a post returned twice
    in a UTC day once). The number of searches is shown because each one spends the
    15-minute budget.
    """
    urls = sum(1 for t in texts if has_url(t))
    polls = int(duration_seconds // max(1.0, poll_seconds)) + 1
    return ChatCost(
        posts=len(texts),
        posts_with_url=urls,
        searches=polls * max(1, queries_per_poll),
        expected_reads=max(0, expected_replies),
    )
