"""What a pipeline or a lane has seen (deliveries, digests) and refused (bad digests): lists in the workflow's
state, capped so that a long-lived run's state, carried through continue-as-new, stays small."""

from __future__ import annotations

KEEP_SEEN = 500


def remember(items: list[str], item: str) -> None:
    items.append(item)
    del items[:-KEEP_SEEN]


def forget(items: list[str], item: str) -> None:
    if item in items:
        items.remove(item)
