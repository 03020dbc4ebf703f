"""`rollwright deploy SERVICE TAG|DIGEST [--env E --reason TEXT]`.

Without --env: hand a version to the service's first lane, as a push would (newest wins, never a downgrade).
With --env and --reason: pin lane E on exactly that version, older or not, through the normal rollout, and hold
the lane on it until `rollwright release`.
"""

from __future__ import annotations

import argparse

from rollwright.cli.context import Context
from rollwright.cli.operations import operations
from rollwright.control.models import DeployOrder, Pinned


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "deploy",
        parents=[common],
        help="queue a version in the first lane, or pin a lane on one (--env, --reason)",
        description="Queue a version in the service's first lane. The lane re-resolves the tag against the "
        "registry and applies the same rules as to a push: tag policy, bad marks, never a downgrade. With --env "
        "and --reason, pin that lane on exactly this version (older or not) and hold it there until released.",
    )
    parser.add_argument("service")
    parser.add_argument("ref", metavar="TAG|DIGEST", help="a tag, or the digest of a version the store knows")
    parser.add_argument("--env", help="pin this lane on the version (needs --reason)")
    parser.add_argument("--reason", help="why the lane is pinned (audited; needs --env)")
    parser.add_argument(
        "--break-glass",
        action="store_true",
        help="pin through a closed deploy window (members of the environment's break_glass_groups; audited)",
    )
    parser.set_defaults(func=run)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    order = DeployOrder(
        service=service, ref=args.ref, environment=args.env, reason=args.reason, break_glass=args.break_glass
    )
    result = await operations(ctx).deploy(order)
    if isinstance(result, Pinned):
        ctx.emit(result, f"{result.lane_workflow_id}: {result.message}")
        return 0
    human = (
        f"queued {service} {result.tag} in {result.workflow_id}; "
        f"`rollwright status {service}` shows what it does with it"
    )
    ctx.emit(result, human + (f"\n{result.note}" if result.note else ""))
    return 0
