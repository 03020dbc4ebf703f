"""The bare workflow's input (bench/bare.py): the shape of a deployment, in the fewest fields that carry it.

Its own module, passed through the sandbox as the deployment's models are: types defined in a workflow's module are
built again for every run, and the baseline should pay for nothing a careful workflow would not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Window:
    """A bake or watch: `checks` check activities a round, a round every `interval_seconds` for `seconds`."""

    seconds: float
    interval_seconds: float
    checks: int


@dataclass
class BareEnvironment:
    waves: list[list[str]]
    bake: Window | None = None


@dataclass
class BareInput:
    environments: list[BareEnvironment]
    pulumi_task_queue: str
    watch: Window | None = None
