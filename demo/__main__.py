"""python -m demo [--ci]: run the whole Rollwright loop locally and narrate it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from demo import sample
from demo.narrator import Narrator
from demo.report import print_summary, read_outcome
from demo.stack import DemoStack, start_stack
from demo.story import Rollout, TurnedBad, deploy, fail_next_version_in_prod_wave_two, turn_bad_while_watched
from devstack.ports import free_port
from devstack.process import ProcessStartError
from rollwright.connections.temporal import exit_without_finalizing
from rollwright.domain.deployment import DeploymentOutcome
from rollwright.observability.logging import configure_logging

GOOD, BAD, FADES = "v1.0.0", "v1.1.0", "v1.2.0"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument(
        "--ci", action="store_true", help="run once on free ports, then exit 0 only if both outcomes happened"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(".demo"), help="where the demo keeps its state (wiped first)"
    )
    parser.add_argument("--temporal-port", type=int, default=7233)
    parser.add_argument("--ui-port", type=int, default=8233)
    return parser.parse_args(argv)


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def _rolled_back_everywhere(third: Rollout) -> bool:
    """Prod rolled back every region it changed, and staging's lane rolled its region back on the bad mark."""
    return third.outcome == DeploymentOutcome.ROLLED_BACK and len(third.rolled_back_regions()) == len(
        sample.ALL_REGIONS
    )


def _check(
    stack: DemoStack,
    narrator: Narrator,
    results: dict[str, Rollout],
    turned_bad: TurnedBad,
) -> bool:
    live, versions, bad = read_outcome(stack)
    live_tags = {(r.target.environment, r.target.region): r.tag for r in live}
    good_everywhere = all(live_tags.get(region) == GOOD for region in sample.ALL_REGIONS)
    marked = {tag: any(v.tag == tag and v.digest in bad for v in versions) for tag in (BAD, FADES)}
    second, third = results[BAD], results[FADES]
    rolled_back = second.outcome == DeploymentOutcome.ROLLED_BACK
    # What a real AnalysisRun measured is in the reason: not a timeout, an abort or a rule of ours.
    measured = f"{sample.CHECK_NAME} measured" in (second.reason or "")
    watched_out = results[GOOD].outcome == DeploymentOutcome.SUCCEEDED
    caught = turned_bad.caught_inside_the_window and _rolled_back_everywhere(third)
    caught_by_check = f"{sample.WATCH_CHECK_NAME} in" in (third.reason or "")
    narrator.chapter("Verdict")
    narrator.say(f"{GOOD} watched for {sample.WATCH_SECONDS}s, then succeeded: {_yes(watched_out)}")
    narrator.say(f"{GOOD} live in all {len(sample.ALL_REGIONS)} regions: {_yes(good_everywhere)}")
    narrator.say(f"{BAD} rolled back: {_yes(rolled_back)}; marked bad: {_yes(marked[BAD])}")
    narrator.say(f"{BAD}'s canary failed on a measurement of {sample.CHECK_NAME}: {_yes(measured)}")
    narrator.say(
        f"{FADES}, bad {sample.TURNS_BAD_AFTER_SECONDS}s into its watch, caught inside the {sample.WATCH_SECONDS}s "
        f"window and rolled back in every region: {_yes(caught)}; by its {sample.WATCH_CHECK_NAME} check: "
        f"{_yes(caught_by_check)}; marked bad: {_yes(marked[FADES])}"
    )
    narrator.say(
        f"took {narrator.elapsed:.0f}s: set-up {stack.startup_seconds:.0f}s (the local cluster "
        f"{stack.cluster.startup_seconds:.0f}s of it), then the three deployments"
    )
    return (
        watched_out and good_everywhere and all(marked.values()) and rolled_back and measured and caught
        and caught_by_check
    )  # fmt: skip


async def _main(args: argparse.Namespace) -> int:
    narrator = Narrator()
    temporal_port = free_port() if args.ci else args.temporal_port
    ui_port = free_port() if args.ci else args.ui_port
    async with start_stack(narrator, workdir=args.workdir, temporal_port=temporal_port, ui_port=ui_port) as stack:
        narrator.chapter(f"Act 1: {GOOD} goes out — staging's lane, then prod's lane in two waves (approval required)")
        first = await deploy(stack, narrator, GOOD)
        if first.outcome != DeploymentOutcome.SUCCEEDED:
            narrator.problem(
                f"{GOOD} did not succeed ({first.outcome.value}: {first.reason}); see {stack.workdir}/logs"
            )
            return 1

        narrator.chapter(f"Act 2: {BAD} fails its canary in prod's second wave")
        fail_next_version_in_prod_wave_two(stack, narrator, BAD)
        second = await deploy(stack, narrator, BAD)

        narrator.chapter(
            f"Act 3: {FADES} passes every canary, then goes bad {sample.TURNS_BAD_AFTER_SECONDS}s into its "
            f"{sample.WATCH_SECONDS}s watch"
        )
        turned_bad = TurnedBad()
        third = await deploy(
            stack, narrator, FADES, meanwhile=turn_bad_while_watched(stack, narrator, FADES, turned_bad)
        )

        print_summary(stack, narrator, [second.last, third.last])
        for rollout in (second, third):
            for env, result in rollout.rollbacks.items():
                narrator.say(f"{env} rolled {rollout.tag} back on the bad mark: {result.outcome.value}")
        ok = _check(stack, narrator, {GOOD: first, BAD: second, FADES: third}, turned_bad)
        if args.ci:
            return 0 if ok else 1
        narrator.chapter("Everything keeps running for you to explore. Press Ctrl-C to stop every process.")
        await asyncio.Event().wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    configure_logging("console", "WARNING")
    loop = asyncio.new_event_loop()
    task = loop.create_task(_main(args))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        print("stopped; every process the demo started has been stopped.", flush=True)
        return 0
    except (ProcessStartError, TimeoutError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


if __name__ == "__main__":
    exit_without_finalizing(main())
