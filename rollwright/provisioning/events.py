"""Engine events → step records (what a preview would do) and progress lines (how far an `up` has got).

Called from the Automation API's event thread, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from pulumi import automation as auto

from rollwright.provisioning.protocol import Progress, StepRecord

# The engine reports steps on the Stack and on default providers too; nobody deploys those.
_INTERNAL_TYPE_PREFIXES = ("pulumi:providers:", "pulumi:pulumi:Stack")


def _public(inputs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # `__provider` is the pickled dynamic provider: noise for diffs and guardrails alike.
    return None if inputs is None else {k: v for k, v in inputs.items() if not k.startswith("__")}


def _op(meta: Any) -> str:
    return str(getattr(meta.op, "value", meta.op))


def _changed_keys(meta: auto.events.StepEventMetadata) -> list[str]:
    if meta.diffs:
        return sorted(key for key in meta.diffs if not key.startswith("__"))
    old = _public(meta.old.inputs if meta.old else None) or {}
    new = _public(meta.new.inputs if meta.new else None) or {}
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


class StepObserver:
    def __init__(self, emit: Callable[[Progress], None], total: int | None) -> None:
        self._emit = emit
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        self.steps: list[StepRecord] = []

    def __call__(self, event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            self._started(event.resource_pre_event.metadata)
        elif event.res_outputs_event is not None:
            self._finished(event.res_outputs_event.metadata)

    def _started(self, meta: auto.events.StepEventMetadata) -> None:
        if meta.type.startswith(_INTERNAL_TYPE_PREFIXES):
            return
        op = _op(meta)
        record = StepRecord(
            op=op,
            urn=meta.urn,
            type=meta.type,
            name=_name(meta.urn),
            changed_keys=_changed_keys(meta) if op != "same" else [],
            protected=bool(meta.old and meta.old.protect) or bool(meta.new and meta.new.protect),
            old_inputs=_public(meta.old.inputs if meta.old else None),
            new_inputs=_public(meta.new.inputs if meta.new else None),
        )
        with self._lock:
            self.steps.append(record)
            self._emit(Progress(done=self._done, total=self._total, op=op, resource=record.name))

    def _finished(self, meta: auto.events.StepEventMetadata) -> None:
        if meta.type.startswith(_INTERNAL_TYPE_PREFIXES):
            return
        with self._lock:
            self._done += 1
            self._emit(Progress(done=self._done, total=self._total, op=_op(meta), resource=_name(meta.urn)))
