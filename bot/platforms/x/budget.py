"""Sharing recent search's request budget by priority.

X allows 450 searches per 15 minutes per app. The live hashtag is searched every cycle;
the conversations the host started (where replies that drop the hashtag land) share what
is left: the newest (the live question) every cycle too, the others taking turns when
there are more than the budget allows, so old conversations never starve the live chat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


class SearchBudget:
    """Which conversation searches fit in this poll cycle, after the hashtag's."""

    def __init__(self) -> None:
        self._turn = 0  # where the rotation through conversations stands

    def allowed(self, remaining: int | None, seconds_left: float, interval: float) -> int | None:
        """Searches this cycle may make (None: no limit known yet)."""
        if remaining is None:
            return None
        cycles = max(1, math.ceil(max(0.0, seconds_left) / max(1.0, interval)))
        return max(1, remaining // cycles)

    def plan(
        self,
        conversations: Sequence[str],
        *,
        remaining: int | None,
        seconds_left: float,
        interval: float,
        has_hashtag: bool = True,
    ) -> list[str]:
        """The conversations to search this cycle: newest first, rotating the rest."""
        ordered = sorted(conversations, key=int, reverse=True)
        allowed = self.allowed(remaining, seconds_left, interval)
        if allowed is None:
            return ordered
        # The newest conversation (the live question) is searched every cycle, like the
        # hashtag; the poll interval then stretches to fit the window, as for any cycle.
        slots = max(1, allowed - (1 if has_hashtag else 0))
        if slots >= len(ordered):
            return ordered
        # The newest conversation (the live question) always; the others take turns.
        chosen = ordered[:1]
        rest = ordered[1:]
        for i in range(slots - 1):
            chosen.append(rest[(self._turn + i) % len(rest)])
        self._turn = (self._turn + slots - 1) % max(1, len(rest))
        return chosen
