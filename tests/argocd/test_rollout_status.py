"""Reading a Rollout's status: the verdicts a hand-off acts on."""

from __future__ import annotations

from typing import Any

import pytest

from rollwright.argocd.rollout_status import RolloutVerdict, describe_failed_analysis, interpret_rollout

STEPS = [{"setWeight": 20}, {"pause": {"duration": "30s"}}, {"setWeight": 50}, {"pause": {}}]


def rollout(status: dict[str, Any], *, generation: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"name": "api", "generation": generation},
        "spec": {
            "template": {"spec": {"containers": [{"name": "api", "image": "reg/api@sha256:" + "a" * 64}]}},
            "strategy": {"canary": {"steps": STEPS}},
        },
        "status": {"observedGeneration": "2", "currentPodHash": "new", "stableRS": "old", **status},
    }


def test_mid_canary_pause_is_progressing_with_step_and_weight() -> None:
    status = interpret_rollout(rollout({"phase": "Paused", "currentStepIndex": 1, "message": "CanaryPauseStep"}))
    assert status.verdict is RolloutVerdict.PROGRESSING
    assert (status.step_index, status.step_count, status.weight) == (1, 4, 20)
    assert status.message == "CanaryPauseStep"


def test_weight_comes_from_the_traffic_router_when_reported() -> None:
    status = interpret_rollout(
        rollout({"phase": "Progressing", "currentStepIndex": 2, "canary": {"weights": {"canary": {"weight": 45}}}})
    )
    assert status.weight == 45


def test_promoted_and_healthy_is_healthy() -> None:
    status = interpret_rollout(rollout({"phase": "Healthy", "currentStepIndex": 4, "stableRS": "new"}))
    assert status.verdict is RolloutVerdict.HEALTHY
    assert status.weight == 100


def test_healthy_phase_before_the_new_pods_are_stable_is_not_done() -> None:
    status = interpret_rollout(rollout({"phase": "Healthy", "currentStepIndex": 4, "stableRS": "old"}))
    assert status.verdict is RolloutVerdict.PROGRESSING


def test_status_of_an_unobserved_spec_says_nothing_yet() -> None:
    stale = rollout({"phase": "Degraded", "abort": True, "message": "RolloutAborted"}, generation=3)
    status = interpret_rollout(stale)
    assert status.verdict is RolloutVerdict.PROGRESSING
    assert not status.up_to_date


@pytest.mark.parametrize("result", ["Failed", "Error"])
def test_failed_step_analysis_fails_with_its_message(result: str) -> None:
    status = interpret_rollout(
        rollout(
            {
                "phase": "Degraded",
                "abort": True,
                "currentStepIndex": 2,
                "message": "RolloutAborted: Rollout aborted update to revision 2: Metric error-rate assessed Failed",
                "canary": {
                    "currentStepAnalysisRunStatus": {
                        "name": "api-new-2-2",
                        "status": result,
                        "message": "Metric error-rate assessed Failed",
                    }
                },
            }
        )
    )
    assert status.verdict is RolloutVerdict.FAILED
    assert status.reason is not None
    assert "api-new-2-2" in status.reason
    assert "Metric error-rate assessed Failed" in status.reason
    assert status.reason.count("Metric error-rate assessed Failed") == 1
    assert status.weight == 0


def test_abort_without_analysis_fails_with_the_controller_message() -> None:
    status = interpret_rollout(rollout({"abort": True, "phase": "Degraded", "message": "RolloutAborted: by hand"}))
    assert status.verdict is RolloutVerdict.FAILED
    assert status.reason == "RolloutAborted: by hand"


def test_degraded_from_the_controllers_progress_deadline_fails() -> None:
    message = 'ProgressDeadlineExceeded: ReplicaSet "api-new" has timed out progress.'
    status = interpret_rollout(rollout({"phase": "Degraded", "currentStepIndex": 0, "message": message}))
    assert status.verdict is RolloutVerdict.FAILED
    assert status.reason == message


def test_our_own_deadline_fails_a_rollout_that_is_still_progressing() -> None:
    status = interpret_rollout(rollout({"phase": "Paused", "currentStepIndex": 3}), deadline_passed=True)
    assert status.verdict is RolloutVerdict.FAILED
    assert status.reason is not None
    assert "progress deadline passed at step 3/4" in status.reason


def test_a_healthy_rollout_of_another_image_is_not_our_version_being_healthy() -> None:
    done = rollout({"phase": "Healthy", "currentStepIndex": 4, "stableRS": "new"})
    ours, theirs = "sha256:" + "a" * 64, "sha256:" + "b" * 64

    assert interpret_rollout(done, digest=ours).verdict is RolloutVerdict.HEALTHY
    waiting = interpret_rollout(done, digest=theirs)
    late = interpret_rollout(done, digest=theirs, deadline_passed=True)

    assert waiting.verdict is RolloutVerdict.PROGRESSING
    assert late.verdict is RolloutVerdict.FAILED
    assert late.reason == f"the Rollout never ran {theirs} (it runs reg/api@{ours})"


def test_an_abort_the_controller_has_not_described_yet_still_reads_as_aborted() -> None:
    rollout = {
        "metadata": {"name": "api", "generation": 2},
        "spec": {"strategy": {"canary": {"steps": [{"setWeight": 25}, {"pause": {}}]}}},
        "status": {"observedGeneration": "2", "abort": True, "phase": "Paused", "message": "CanaryPauseStep"},
    }

    status = interpret_rollout(rollout)

    assert status.verdict is RolloutVerdict.FAILED
    assert status.reason == "RolloutAborted: the rollout was aborted"


def test_a_failed_analysis_run_is_told_by_metric_value_and_condition() -> None:
    run = {
        "metadata": {"name": "api-59f8-3"},
        "spec": {"metrics": [{"name": "success-rate", "successCondition": "result[0] >= 0.95"}]},
        "status": {
            "phase": "Failed",
            "message": 'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)',
            "metricResults": [
                {
                    "name": "success-rate",
                    "phase": "Failed",
                    "count": 2,
                    "failed": 2,
                    "measurements": [{"value": "[0.7999999999999999]"}, {"value": "[0.8]"}],
                }
            ],
        },
    }
    terminated = {"metadata": {"name": "x"}, "status": {"phase": "Successful", "message": "Run Terminated"}}

    assert describe_failed_analysis(run) == (
        "AnalysisRun api-59f8-3: success-rate measured 0.8, 0.8 (needs result[0] >= 0.95; 2 failed of 2)"
    )
    assert describe_failed_analysis(terminated) is None


def test_a_workload_ref_rollout_cannot_be_judged_and_the_reason_says_so() -> None:
    referring = {
        "metadata": {"name": "shop-api", "generation": 1},
        "spec": {
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-api"},
            "strategy": {"canary": {"steps": STEPS}},
        },
    }

    # At the first look, before the controller has written anything: the spec alone says it.
    status = interpret_rollout(referring, digest="sha256:" + "a" * 64)

    assert status.verdict is RolloutVerdict.UNJUDGEABLE
    assert status.reason == (
        "Rollout shop-api has spec.workloadRef (Deployment shop-api): Rollwright cannot see which image it runs; "
        "supported: Rollouts with an inline pod template, Argo Rollouts 1.0 or later"
    )


def test_a_rollout_observed_by_a_controller_before_1_0_cannot_be_judged() -> None:
    observed_without_phase = rollout({"currentStepIndex": 4, "stableRS": "new"})
    observed_without_phase["status"].pop("phase", None)

    status = interpret_rollout(observed_without_phase)

    assert status.verdict is RolloutVerdict.UNJUDGEABLE
    assert status.reason is not None
    assert status.reason.startswith(
        "Rollout api has no status.phase although its controller has observed it (Argo Rollouts before 1.0)"
    )
    assert status.reason.endswith("Argo Rollouts 1.0 or later")


def test_no_phase_before_the_controller_observed_the_spec_is_only_waiting() -> None:
    # A 1.x controller writes the phase with the observed generation; until then there is nothing to judge yet.
    status = interpret_rollout(rollout({"observedGeneration": "1"}))

    assert status.verdict is RolloutVerdict.PROGRESSING


@pytest.mark.parametrize("observed", ["58b949649c", "8575574967"])
def test_a_hash_for_observed_generation_cannot_be_judged(observed: str) -> None:
    status = interpret_rollout(rollout({"observedGeneration": observed, "phase": "Healthy", "stableRS": "new"}))

    assert status.verdict is RolloutVerdict.UNJUDGEABLE
    assert status.reason is not None
    assert f"has a spec hash ({observed}) for status.observedGeneration, as Argo Rollouts before 0.10" in status.reason


def test_a_deadline_passed_before_the_controller_looked_says_that() -> None:
    never_reconciled = rollout({})
    del never_reconciled["status"]
    stale = rollout({"phase": "Healthy"}, generation=3)

    unseen = interpret_rollout(never_reconciled, deadline_passed=True)
    behind = interpret_rollout(stale, deadline_passed=True)

    assert unseen.verdict is behind.verdict is RolloutVerdict.FAILED
    assert unseen.reason == (
        "progress deadline passed before the Argo Rollouts controller observed generation 2 "
        "(it has written no status: is it running?)"
    )
    assert behind.reason == (
        "progress deadline passed before the Argo Rollouts controller observed generation 3 (it last observed 2)"
    )
