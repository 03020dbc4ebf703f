"""`rollwright rollback|release|promote`: an engineer's acts on a service's lanes.

rollback SERVICE [--env E] [--to TAG|DIGEST] [--keep-good] --reason TEXT
    back to `--to` (default: the lane's previous good version) as a deployment of its own; the version it replaces
    is marked bad unless `--keep-good`; the lane is held there. Without --env: every lane with a live version,
    the last environment first.
release SERVICE [--env E] --reason TEXT
    lift a lane's hold (without --env: every held lane), so versions roll forward again.
promote SERVICE ENV [VERSION] --reason TEXT
    ENV takes VERSION now (default: what is live in the lane ENV promotes from), whatever its rule's timer says.
"""

from __future__ import annotations

import argparse

from rollwright.cli.context import Context
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.cli.operations import operations
from rollwright.control.models import LaneResult, PromoteOrder, ReleaseOrder, RollbackOrder
from rollwright.domain.lane import LaneControl


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    rollback = sub.add_parser(
        "rollback",
        parents=[common],
        help="roll lanes back to a good version and hold them there",
        description="Roll back as a deployment of its own (no canary, waves newest first), mark the replaced "
        "version bad unless --keep-good, and hold the lane until `rollwright release`.",
    )
    rollback.add_argument("service")
    rollback.add_argument("--env", help="one lane (default: every lane with a live version, the last one first)")
    rollback.add_argument("--to", metavar="TAG|DIGEST", help="the version to return to (default: the previous good)")
    rollback.add_argument("--keep-good", action="store_true", help="do not mark the replaced version bad")
    rollback.add_argument("--reason", required=True, help="why (audited)")
    rollback.set_defaults(func=run_rollback)

    release = sub.add_parser(
        "release",
        parents=[common],
        help="lift a lane's hold so versions roll forward again",
        description="Lift the hold a rollback or a pin put on a lane: the version waiting there goes next.",
    )
    release.add_argument("service")
    release.add_argument("--env", help="one lane (default: every held lane)")
    release.add_argument("--reason", required=True, help="why (audited)")
    release.set_defaults(func=run_release)

    promote = sub.add_parser(
        "promote",
        parents=[common],
        help="promote a version into a lane now",
        description="The lane takes the version now, screened like any candidate, whatever its rule's timer says.",
    )
    promote.add_argument("service")
    promote.add_argument("environment")
    promote.add_argument("version", nargs="?", metavar="TAG|DIGEST", help="default: live in the lane it promotes from")
    promote.add_argument("--reason", required=True, help="why (audited)")
    promote.set_defaults(func=run_promote)


def reason_of(args: argparse.Namespace) -> str:
    reason: str = args.reason.strip()
    if not reason:
        raise UsageError("--reason must say why")
    return reason


def _report(ctx: Context, control: LaneControl, results: list[LaneResult], *, many: bool) -> int:
    """`many` (no --env): a list in JSON, however many lanes answered, so scripts read one shape."""
    ctx.emit(results if many else results[0], "\n".join(result.line() for result in results))
    refused = [result.environment for result in results if result.error]
    if refused:
        raise OperationFailed(f"{control.value} refused in {', '.join(refused)} (see above)")
    return 0


async def run_rollback(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    order = RollbackOrder(
        service=service, reason=reason_of(args), environment=args.env, to=args.to, keep_good=args.keep_good
    )
    results = await operations(ctx).rollback(order)
    return _report(ctx, LaneControl.ROLLBACK, results, many=args.env is None)


async def run_release(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    order = ReleaseOrder(service=service, reason=reason_of(args), environment=args.env)
    results = await operations(ctx).release(order)
    return _report(ctx, LaneControl.RELEASE, results, many=args.env is None)


async def run_promote(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    order = PromoteOrder(service=service, reason=reason_of(args), environment=args.environment, version=args.version)
    result = await operations(ctx).promote(order)
    return _report(ctx, LaneControl.PROMOTE, [result], many=False)
