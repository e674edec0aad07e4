"""Bounded memories of what an adapter has met: the least recently used forgotten past a cap.

Adapters remember every post id they handed over (so a post found twice is handed over
once), and per post its CID, thread root, author or channel. A bot that runs for months
would keep all of them: these keep the newest `capacity` (100,000 by default: a chat's
hour is a few thousand posts), refreshing an entry whenever it is read or written, so the
bot's own welcome and questions, read at every post, are never the ones forgotten.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, MutableMapping, MutableSet
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
CAPACITY = 100_000


class RecentMap(MutableMapping[K, V]):
    """A dict keeping the `capacity` most recently used keys."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def __getitem__(self, key: K) -> V:
        value = self._items[key]
        self._items.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __delitem__(self, key: K) -> None:
        del self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items  # a membership test does not refresh: a read does

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class RecentSet(MutableSet[K]):
    """A set keeping the `capacity` most recently added (or re-added) members."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._items: RecentMap[K, None] = RecentMap(capacity)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, value: K) -> None:
        """Remember `value` (as the newest member)."""
        self._items[value] = None

    def discard(self, value: K) -> None:
        """Forget `value` if it is remembered."""
        self._items.pop(value, None)

    def update(self, values: Iterable[K]) -> None:
        """Remember each of `values`."""
        for value in values:
            self.add(value)
