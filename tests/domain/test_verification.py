"""The judgement of one live region's measurement: the absolute condition, then the comparison with the regions the
deployment has not changed yet."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rollwright.domain.verification import BaselineComparison, CheckVerdict, VerificationCheck, judge

RATIO = VerificationCheck(name="error-ratio", query="q", success_condition="result <= 0.05")
COMPARED = RATIO.model_copy(update={"compare_to_baseline": BaselineComparison(max_degradation=0.02)})
SUCCESS = VerificationCheck(
    name="success-rate",
    query="q",
    success_condition="result[0] >= 0.95",
    compare_to_baseline=BaselineComparison(max_degradation=0.01),
)


@pytest.mark.parametrize(
    ("value", "verdict"), [(0.05, CheckVerdict.PASSED), (0.0501, CheckVerdict.FAILED), (0.0, CheckVerdict.PASSED)]
)
def test_the_absolute_condition_decides_without_a_comparison(value: float, verdict: CheckVerdict) -> None:
    assert judge(RATIO, "prod", "us-east-1", value, {}).verdict is verdict


def test_a_region_worse_than_the_untouched_mean_by_more_than_allowed_fails_under_the_threshold() -> None:
    result = judge(COMPARED, "prod", "us-east-1", 0.04, {"eu-west-1": 0.01, "ap-south-1": 0.012})
    assert result.verdict is CheckVerdict.FAILED
    assert result.baseline == pytest.approx(0.011)
    assert result.baseline_regions == ["ap-south-1", "eu-west-1"]
    assert result.detail == (
        "error-ratio in us-east-1 measured 0.04, 0.029 worse than 0.011 in the untouched regions "
        "(ap-south-1, eu-west-1); at most 0.02 allowed"
    )


def test_a_region_as_good_as_its_neighbours_passes() -> None:
    result = judge(COMPARED, "prod", "us-east-1", 0.02, {"eu-west-1": 0.01})
    assert result.verdict is CheckVerdict.PASSED
    assert result.detail == "error-ratio in us-east-1 measured 0.02 (result <= 0.05); within 0.02 of eu-west-1"


def test_for_a_higher_is_better_check_worse_means_lower() -> None:
    assert judge(SUCCESS, "prod", "us-east-1", 0.97, {"eu-west-1": 0.99}).verdict is CheckVerdict.FAILED
    assert judge(SUCCESS, "prod", "us-east-1", 0.985, {"eu-west-1": 0.99}).verdict is CheckVerdict.PASSED
    assert judge(SUCCESS, "prod", "us-east-1", 0.999, {"eu-west-1": 0.97}).verdict is CheckVerdict.PASSED


def test_without_a_baseline_region_the_status_says_the_absolute_condition_decided_alone() -> None:
    alone = judge(COMPARED, "prod", "us-east-1", 0.04, {})
    quiet = judge(COMPARED, "prod", "us-east-1", 0.04, {"eu-west-1": None})
    assert (alone.verdict, quiet.verdict) == (CheckVerdict.PASSED, CheckVerdict.PASSED)
    assert alone.detail.endswith("no baseline region: the absolute condition alone decides")
    assert quiet.detail.endswith("no baseline region has data: the absolute condition alone decides")


def test_no_data_fails_unless_the_check_allows_a_quiet_region() -> None:
    assert judge(RATIO, "prod", "us-east-1", None, {}).detail == "error-ratio in us-east-1: the query gave no data"
    assert judge(RATIO, "prod", "us-east-1", None, {}).verdict is CheckVerdict.FAILED
    allowed = RATIO.model_copy(update={"pass_without_data": True})
    assert judge(allowed, "prod", "us-east-1", None, {}).verdict is CheckVerdict.PASSED


@pytest.mark.parametrize("condition", ["result < 1 and result > 0", "len(result) == 1", "result <= x", "0.5 > result"])
def test_a_condition_outside_the_vocabulary_is_refused_when_the_config_loads(condition: str) -> None:
    with pytest.raises(ValidationError, match="is not understood"):
        VerificationCheck(name="c", query="q", success_condition=condition)


def test_placeholders_name_the_region_under_check() -> None:
    check = VerificationCheck(
        name="c", query='rate(x{svc="{{service}}",ns="{{environment}}-{{region}}"}[1m])', success_condition="result < 1"
    )
    assert check.query_for("api", "prod", "eu-west-1") == 'rate(x{svc="api",ns="prod-eu-west-1"}[1m])'
