"""Posts a platform holds back for now: X's credits spent (402) or a 24-hour cap reached.

While a platform refuses every post for want of credits, retrying at once or every few
seconds only spends requests: nothing changes until someone tops up. The host therefore
keeps such a post *owed* in the outbox (status 'owed', durable across a restart) together
with every later post for that platform, and asks the platform again on a slow, capped
backoff. The first post that goes through again releases the hold; the owed posts then go
out in their order, once each, and the moderators are told. After `limit` the hold is given
up and what is still owed is marked failed, with an alert, so a chat whose credits never
come back still ends. A 24-hour posting cap is held the same way, except that the platform
says when it resets: nothing is asked before that time.

`Holds` keeps the schedule of those attempts, one hold per platform; `HeldPosts` is the
host's part that owes, asks again, pays back and gives up (the host does the posting).
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from bot.clock import Clock

if TYPE_CHECKING:
    from bot.archive import Archive, ItemRow
    from bot.platforms.base import Platform

Outcome = Literal["sent", "owed", "failed"]


@dataclass(frozen=True)
class HoldPolicy:
    """When to ask a held platform again: from `first_seconds`, doubling to `cap_seconds`."""

    first_seconds: float = 60.0
    cap_seconds: float = 900.0
    limit_hours: float = 24.0  # then the owed posts are given up (and the moderators told)


@dataclass
class Hold:
    """One platform's hold: why, since when, and when to ask again."""

    reason: str
    since: datetime
    delay: float
    next_try: datetime
    tries: int = 0  # attempts refused since the hold began (the first refusal not counted)
    # When the last refusal said the platform takes posts again (a cap's reset): the hold
    # waits for it and is not given up before the platform was asked after it.
    retry_at: datetime | None = None


class Holds:
    """The holds of one session's platforms, with their backoff."""

    def __init__(self, policy: HoldPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._holds: dict[str, Hold] = {}

    def __contains__(self, platform: str) -> bool:
        return platform in self._holds

    def get(self, platform: str) -> Hold | None:
        """The platform's hold, if it is held."""
        return self._holds.get(platform)

    def refused(self, platform: str, reason: str, retry_at: datetime | None = None) -> bool:
        """The platform refused a post for now; True when this starts a hold.

        A refusal during a hold (a retry in vain) doubles the wait, up to the cap. When the
        platform said when it takes posts again (`retry_at`, a cap's reset), it is not asked
        before then: asking earlier would only spend requests.
        """
        now = self.clock.now()
        hold = self._holds.get(platform)
        if hold is None:
            delay = self.policy.first_seconds
            hold = self._holds[platform] = Hold(reason, now, delay,
                                                now + timedelta(seconds=delay))
            started = True
        else:
            hold.tries += 1
            hold.reason = reason
            hold.delay = min(self.policy.cap_seconds, hold.delay * 2)
            hold.next_try = now + timedelta(seconds=hold.delay)
            started = False
        hold.retry_at = retry_at
        if retry_at is not None and retry_at > hold.next_try:
            hold.next_try = retry_at
        return started

    def resumed(self, platform: str, reason: str, since: datetime) -> None:
        """After a restart: owed posts found in the outbox; ask the platform again now."""
        if platform not in self._holds:
            self._holds[platform] = Hold(reason, since, self.policy.first_seconds,
                                         self.clock.now())

    def release(self, platform: str) -> Hold | None:
        """The platform took a post again: its hold ends."""
        return self._holds.pop(platform, None)

    def held(self) -> list[str]:
        """The platforms held now."""
        return list(self._holds)

    def ask_now(self) -> list[str]:
        """A moderator says the account is topped up: every held platform is asked at once."""
        for hold in self._holds.values():
            hold.next_try = self.clock.now()
        return list(self._holds)

    def expired(self, platform: str) -> bool:
        """Whether the hold has lasted longer than the policy allows.

        Never while the last refusal named a time the platform takes posts again and it has
        not been asked since: giving up then would fail posts without ever asking after the
        reset they were held for (a refusal without a reset time makes the limit apply).
        """
        hold = self._holds.get(platform)
        limit = timedelta(hours=self.policy.limit_hours)
        if hold is None or hold.retry_at is not None:
            return False
        return self.clock.now() - hold.since >= limit

    def due(self) -> list[str]:
        """The held platforms whose next attempt is due now."""
        now = self.clock.now()
        return [p for p, hold in self._holds.items() if hold.next_try <= now]

    def seconds_to_next(self) -> float | None:
        """Seconds until the next attempt on any held platform (None: nothing is held)."""
        if not self._holds:
            return None
        soonest = min(hold.next_try for hold in self._holds.values())
        return max(0.0, (soonest - self.clock.now()).total_seconds())


class HeldPosts(abc.ABC):
    """The session host's handling of held posts (mixed into SessionHost)."""

    archive: Archive
    session_id: int
    platforms: dict[str, Platform]
    clock: Clock
    holds: Holds

    @abc.abstractmethod
    async def _send(self, item: ItemRow, platform_name: str, *, owed: bool = False) -> Outcome:
        """Post one item on one platform, with retries; `owed`: paying back a held post."""

    @abc.abstractmethod
    async def _tell(self, kind: str, alert: str, level: int = logging.ERROR) -> None:
        """Write `alert` to the session log and tell the moderators."""

    async def _held(self, item: ItemRow, platform_name: str, reason: str,
                    retry_at: datetime | None = None) -> None:
        """The platform refused every post for now: the post stays owed (durably)."""
        self.archive.mark_owed(self.session_id, item.key, platform_name, reason)
        if self.holds.refused(platform_name, reason, retry_at):
            p = self.holds.policy
            when = (f"asked again at {retry_at:%d %b %H:%M} UTC, then every "
                    if retry_at is not None else "asked every ")
            await self._tell("post_held", (
                f"{item.key} is held on {platform_name}: {reason}. It and the posts after it "
                f"stay owed and go out in order once {platform_name} takes posts again ({when}"
                f"{p.first_seconds / 60:g} to {p.cap_seconds / 60:g} min, for up to "
                f"{p.limit_hours:g} h)"))

    def _owed(self) -> dict[str, list[ItemRow]]:
        """Platform -> the items it still owes, in order (also after a restart)."""
        owed: dict[str, list[ItemRow]] = {}
        for item in self.archive.items(self.session_id):
            for row in self.archive.outbox(self.session_id, item.key):
                name = row["platform"]
                # A row left 'sending' by a crash while paying back is owed still.
                retrying = row["status"] == "sending" and item.status in ("owed", "sent")
                if name in self.platforms and (row["status"] == "owed" or retrying):
                    owed.setdefault(name, []).append(item)
                    self.holds.resumed(name, row["last_error"] or "held", self.clock.now())
        return owed

    async def _settle_holds(self, owed: dict[str, list[ItemRow]]) -> bool:
        """Give up holds that lasted too long, ask held platforms again when due."""
        acted = False
        for name, items in owed.items():
            if self.holds.expired(name):
                await self._give_up(name, items)
                acted = True
        for name in self.holds.due():
            if name in owed and not self.holds.expired(name):
                await self._pay_back(name, owed[name])
                acted = True
            elif name not in owed:
                self.holds.release(name)
        return acted

    async def _pay_back(self, name: str, items: list[ItemRow]) -> None:
        """Ask the held platform for the first owed post; if it goes, the rest follow."""
        for position, item in enumerate(items):
            outcome = await self._send(item, name, owed=True)
            if outcome == "owed":
                return  # still held: asked again after the (doubled) wait
            if position == 0:
                hold = self.holds.release(name)
                held_for = (self.clock.now() - hold.since).total_seconds() / 60 if hold else 0
                keys = ", ".join(i.key for i in items)
                await self._tell("post_resumed", (
                    f"{name}: posting again after {held_for:.0f} min held; the owed posts go "
                    f"out now, in order: {keys}"), logging.WARNING)
            if item.status == "owed":
                status = "sent" if outcome == "sent" else "failed"
                self.archive.set_item_status(self.session_id, item.key, status,
                                             posted_at=self.clock.now())

    async def _give_up(self, name: str, items: list[ItemRow]) -> None:
        hold = self.holds.release(name)
        reason = hold.reason if hold else "held"
        for item in items:
            self.archive.mark_failed(self.session_id, item.key, name, f"gave up: {reason}")
            if item.status == "owed":
                self.archive.set_item_status(self.session_id, item.key, "failed")
        await self._tell("post_failed", (
            f"{name}: gave up on {', '.join(i.key for i in items)} after "
            f"{self.holds.policy.limit_hours:g} h held ({reason}); post them by hand if they "
            "are still wanted"))
