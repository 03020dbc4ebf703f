"""A small, bounded memory of recent deliveries, so a registry's redelivery starts nothing new.

Only a first line of defence: the lane workflow dedups by delivery id and digest as well, and
that is the one that survives restarts and spans several receiver processes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class RecentDeliveries:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def seen(self, keys: Iterable[str]) -> bool:
        return any(key in self._keys for key in keys)

    def remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._keys[key] = None
            self._keys.move_to_end(key)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def __len__(self) -> int:
        return len(self._keys)
