"""Checks Rollwright runs itself once a region is live: during the bakes between waves, through the watch after the
last wave, and against the regions a deployment has not changed yet.

A check is a Prometheus query with a success condition in the canary checks' vocabulary (`result <= 0.05`,
`result[0] >= 0.95`). The condition is parsed here, when the config loads, so a typo never reaches a rollout.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from rollwright.domain.durations import Duration
from rollwright.domain.identity import NAME_PATTERN

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CONDITION = re.compile(r"^\s*result(?:\[0\])?\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$")
PLACEHOLDERS = ("{{service}}", "{{environment}}", "{{region}}")


def _parse_condition(text: str) -> tuple[str, float]:
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(
            f"success condition {text!r} is not understood; write `result <op> <number>` with one of "
            f"{', '.join(_COMPARISONS)} (e.g. `result <= 0.05`)"
        )
    return match.group(1), float(match.group(2))


def _valid_condition(text: str) -> str:
    _parse_condition(text)
    return text


SuccessCondition = Annotated[str, AfterValidator(_valid_condition)]


def condition_holds(condition: str, value: float) -> bool:
    op, threshold = _parse_condition(condition)
    return _COMPARISONS[op](value, threshold)


def higher_is_worse(condition: str) -> bool:
    """Whether a bigger measurement is the bad direction, read from the condition (`result <= x`: it is)."""
    op, _ = _parse_condition(condition)
    return op in ("<", "<=")


class OnFailure(StrEnum):
    """What a failed check or canary does: roll back every changed region, or stop and wait for an engineer."""

    ROLLBACK = "rollback"
    HALT = "halt"


class BaselineComparison(BaseModel):
    """The region under change may be worse than the mean of the regions still on the previous version by at
    most `max_degradation` (in the query's unit: 0.03 is 3 points of an error ratio)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_degradation: float = Field(ge=0)


class VerificationCheck(BaseModel):
    """One measurement of a live region. The query may use {{service}}, {{environment}} and {{region}}; it must
    come back as one number (a scalar or a one-sample vector)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    query: str = Field(min_length=1, description="PromQL")
    success_condition: SuccessCondition = Field(description="e.g. result <= 0.05")
    compare_to_baseline: BaselineComparison | None = None
    # No data (an empty vector, NaN) fails the check unless this says the region may be quiet.
    pass_without_data: bool = False

    def query_for(self, service: str, environment: str, region: str) -> str:
        return (
            self.query.replace("{{service}}", service)
            .replace("{{environment}}", environment)
            .replace("{{region}}", region)
        )


class VerificationPlan(BaseModel):
    """A service's (or one environment's) checks, how often they run, how long the watch after the last wave
    lasts, and what a failure does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checks: list[VerificationCheck] = Field(default_factory=list)
    interval: Duration = timedelta(seconds=30)
    # The first round of a bake or a watch waits this long: a region live for a second has no rate to measure
    # yet, and "no data" fails a check.
    initial_delay: Duration = timedelta(0)
    # After the last wave is live; none: the deployment succeeds as soon as it is.
    watch: Duration | None = None
    on_failure: OnFailure = OnFailure.ROLLBACK

    @model_validator(mode="after")
    def _names_unique(self) -> VerificationPlan:
        names = [check.name for check in self.checks]
        if len(names) != len(set(names)):
            raise ValueError(f"verification check names must be unique: {', '.join(names)}")
        if self.watch is not None and not self.checks:
            raise ValueError("a watch needs at least one check to watch with")
        if self.interval <= timedelta(0):
            raise ValueError("the check interval must be positive")
        return self


class CheckVerdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class CheckResult(BaseModel):
    """One check's measurement in one region, and why it passed or failed."""

    check: str
    environment: str
    region: str
    verdict: CheckVerdict
    value: float | None = None
    condition: str
    baseline: float | None = None
    baseline_regions: list[str] = Field(default_factory=list)
    detail: str

    @property
    def failed(self) -> bool:
        return self.verdict is CheckVerdict.FAILED


def _shown(value: float) -> str:
    return f"{value:.4g}"


def judge(
    check: VerificationCheck, environment: str, region: str, value: float | None, baselines: dict[str, float | None]
) -> CheckResult:
    """One changed region's verdict: the absolute condition first, then (when the check compares) the mean of the
    untouched regions that have data. `baselines` maps each untouched region to its measurement."""

    def result(passed: bool, detail: str, baseline: float | None = None, names: list[str] | None = None) -> CheckResult:
        verdict = CheckVerdict.PASSED if passed else CheckVerdict.FAILED
        return CheckResult(check=check.name, environment=environment, region=region, verdict=verdict, value=value,
                           condition=check.success_condition, baseline=baseline, baseline_regions=names or [],
                           detail=detail)  # fmt: skip

    if value is None:
        if check.pass_without_data:
            return result(True, f"{check.name} in {region}: no data (allowed)")
        return result(False, f"{check.name} in {region}: the query gave no data")
    measured = f"{check.name} in {region} measured {_shown(value)}"
    if not condition_holds(check.success_condition, value):
        return result(False, f"{measured}, needs {check.success_condition}")
    comparison = check.compare_to_baseline
    if comparison is None:
        return result(True, f"{measured} ({check.success_condition})")
    with_data = {name: v for name, v in sorted(baselines.items()) if v is not None}
    if not with_data:
        reason = "no baseline region" if not baselines else "no baseline region has data"
        return result(True, f"{measured} ({check.success_condition}); {reason}: the absolute condition alone decides")
    baseline = sum(with_data.values()) / len(with_data)
    worse_by = value - baseline if higher_is_worse(check.success_condition) else baseline - value
    names = list(with_data)
    if worse_by > comparison.max_degradation:
        detail = (
            f"{measured}, {_shown(worse_by)} worse than {_shown(baseline)} in the untouched regions "
            f"({', '.join(names)}); at most {_shown(comparison.max_degradation)} allowed"
        )
        return result(False, detail, baseline, names)
    within = f"within {_shown(comparison.max_degradation)} of {', '.join(names)}"
    return result(True, f"{measured} ({check.success_condition}); {within}", baseline, names)
