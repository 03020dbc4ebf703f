"""A region's provision with the policy packs against a plain `preview` + `up`, and against the provision before the
packs (preview, the same service's other environments' outputs read through the CLI for the hand-written
guardrails, then `up`): same program, same stack, same file backend, same run, rounds interleaved.

    .venv/bin/python -m bench.provision [--rounds 9]

All three run in this process on the Automation API (a worker runs each in a child process of its own, which costs
the same for all three and is left out). Two cases: nothing changed (the common retry and re-run), and a new digest
(the Rollout changes). The goal: the packs' provision within 1.25x of the plain preview + up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep
from rollwright.provisioning.cli_binary import pulumi_bin_dir
from rollwright.provisioning.operations import execute
from rollwright.provisioning.operations import select_stack as select
from rollwright.provisioning.protocol import ChildRequest, GuardrailContext, Operation
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.settings import RunnerSettings
from rollwright.secrets import SecretRef
from rollwright.stacks.inputs import StackInputs

PROGRAM = "rollwright.stacks.web_service:program"
PASSPHRASE_ENV = "ROLLWRIGHT_BENCH_PULUMI_PASSPHRASE"
GOAL = 1.25
TARGET = RegionTarget(service="shop", environment="prod", region="us-east-1")
# The rest of the backend: the service's staging, another service in both environments.
OTHERS = [
    RegionTarget(service="shop", environment="staging", region="local-a"),
    RegionTarget(service="billing", environment="staging", region="local-a"),
    RegionTarget(service="billing", environment="prod", region="us-east-1"),
]
ALL = [TARGET, *OTHERS]
ANALYSIS = CanaryAnalysis(
    checks=[CanaryCheck(name="success-rate", query="sum(up)", success_condition="result[0] >= 0.95")],
    prometheus_address="http://127.0.0.1:9090",
)


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def guard(target: RegionTarget) -> GuardrailContext:
    return GuardrailContext(
        environment=target.environment,
        production=target.environment == "prod",
        stack_environments={t.stack_name: t.environment for t in ALL},
        environments=["prod", "staging"],
    )


def request(provisioner: Provisioner, settings: RunnerSettings, target: RegionTarget, n: int) -> ChildRequest:
    inputs = StackInputs(
        target=target,
        image=f"registry.local:5000/{target.service}/api",
        digest=digest(n),
        canary_steps=[CanaryStep(weight=20, pause="30s"), CanaryStep(weight=60, pause=None)],
        analysis=ANALYSIS,
        settings={"replicas": 2},
        manifests_dir=str(provisioner.manifests_dir(target.stack_name)),
        data_dir=str(provisioner.data_dir()),
    )
    stack = target.stack_name
    return ChildRequest(
        operation=Operation.PROVISION,
        project=settings.project,
        stack=stack,
        work_dir=str(settings.stack_dir(stack) / "workspace"),
        program=PROGRAM,
        config=inputs.to_config(),
        guardrails=guard(target),
    )


def with_packs(req: ChildRequest) -> None:
    result = execute(req, lambda _: None)
    assert result.error is None, result.error


def plain(req: ChildRequest) -> None:
    stack = select(req)
    stack.preview(on_event=lambda _: None, diff=True)
    stack.up(on_event=lambda _: None)


def before_packs(req: ChildRequest) -> None:
    """What provision did before the packs: preview, read the service's other environments' outputs, then `up`."""
    stack = select(req)
    stack.preview(on_event=lambda _: None, diff=True)
    for other in OTHERS:
        if other.service == TARGET.service:
            stack.workspace.stack_outputs(other.stack_name)
    stack.up(on_event=lambda _: None)


VARIANTS: dict[str, Callable[[ChildRequest], None]] = {
    "packs": with_packs,
    "before": before_packs,
    "plain": plain,
}


def timed(run: Callable[[ChildRequest], None], req: ChildRequest) -> float:
    began = time.perf_counter()
    run(req)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    os.environ[PASSPHRASE_ENV] = "bench passphrase"
    with tempfile.TemporaryDirectory(prefix="bench-provision-") as root:
        settings = RunnerSettings(
            backend_url=f"file://{Path(root) / 'state'}",
            work_root=Path(root) / "work",
            passphrase=SecretRef(env=PASSPHRASE_ENV),
            bin_dirs=[pulumi_bin_dir()],
        )
        os.environ.update(settings.environment())
        provisioner = Provisioner(settings)
        print(f"setting up {len(ALL)} stacks in {root}")
        for target in ALL:
            with_packs(request(provisioner, settings, target, 1))
        times: dict[tuple[str, str], list[float]] = {}
        n = 1
        for round_ in range(1, args.rounds + 1):
            for name, run in VARIANTS.items():
                # The digest the stack runs, then the next one.
                times.setdefault(("unchanged", name), []).append(timed(run, request(provisioner, settings, TARGET, n)))
                n += 1
                times.setdefault(("new digest", name), []).append(timed(run, request(provisioner, settings, TARGET, n)))
            print(f"round {round_}/{args.rounds} done")
        for case in ("unchanged", "new digest"):
            medians = {name: statistics.median(times[(case, name)]) for name in VARIANTS}
            print(f"\n{case}: median of {args.rounds}")
            for name, seconds in medians.items():
                print(f"  {name:<7} {seconds:6.2f} s   {seconds / medians['plain']:.2f}x plain")
            ratio = medians["packs"] / medians["plain"]
            verdict = "meets" if ratio <= GOAL else "misses"
            print(f"  packs {verdict} the goal of <= {GOAL}x plain preview + up ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
