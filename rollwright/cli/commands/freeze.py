"""`rollwright freeze [SERVICE...|--all] [--env E] --reason TEXT [--until TIME] [--let-running-finish]` and
`rollwright unfreeze [SERVICE...|--all] [--env E] --reason TEXT`: stop the line, and start it again.

The freeze is written to the version store (durable, audited: lifted, never deleted), then every running deployment
of the services in scope is told, so a held one re-checks at once (rollwright/control/freezes.py). With `api.url`
configured it goes through the control API, which needs the admin role in every environment the scope reaches.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from rollwright.cli.context import Context
from rollwright.cli.errors import UsageError
from rollwright.cli.operations import operations
from rollwright.control import freezes
from rollwright.control.errors import ControlError
from rollwright.control.models import FreezeOrder, UnfreezeOrder
from rollwright.domain.durations import parse_duration
from rollwright.domain.freeze import Freeze


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    text = "stop deployments (new ones wait before publish, running ones at their next safe point)"
    frozen = sub.add_parser("freeze", parents=[common], help=text, description=text)
    _scope(frozen)
    frozen.add_argument("--until", help="when it expires: an ISO time with a zone, or a duration from now (2h, 30m)")
    frozen.add_argument(
        "--let-running-finish", action="store_true", help="deployments already running go on; only new ones wait"
    )
    frozen.set_defaults(func=run_freeze)
    text = "lift the freezes in a scope; what they held goes on within a second"
    thawed = sub.add_parser("unfreeze", parents=[common], help=text, description=text)
    _scope(thawed)
    thawed.set_defaults(func=run_unfreeze)


def _scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("services", nargs="*", metavar="SERVICE", help="the services (or --all)")
    parser.add_argument("--all", action="store_true", dest="all_services", help="every service")
    parser.add_argument("--env", help="only this environment (default: every environment)")
    parser.add_argument("--reason", required=True, help="why (recorded with the freeze)")


def _as_time(text: str, now: datetime) -> datetime:
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--until {text!r} is neither a duration (2h, 30m) nor an ISO time") from None


def parse_until(text: str, now: datetime) -> datetime:
    """`2h`/`30m` from now, or an ISO time with a zone (`2026-12-24T18:00:00+01:00`, `…Z`), in the future."""
    until = _as_time(text, now)
    if until.tzinfo is None:
        raise UsageError(f"--until {text!r} needs a time zone (e.g. {text}Z or {text}+01:00)")
    if until <= now:
        raise UsageError(f"--until {text!r} is not in the future")
    return until.astimezone(UTC)


def _check(ctx: Context, args: argparse.Namespace, verb: str) -> None:
    """Everything wrong with the arguments, before Temporal or the store is reached."""
    if not args.reason.strip():
        raise UsageError("--reason must say why")
    if args.all_services and args.services:
        raise UsageError("name services or --all, not both")
    if not args.all_services and not args.services:
        raise UsageError(f"name the services to {verb}, or --all")
    for name in args.services:
        ctx.service(name)
    try:
        freezes.scope_of(
            freezes.configured_environments(ctx.config),
            args.services,
            all_services=args.all_services,
            environment=args.env,
        )
    except ControlError as exc:
        raise UsageError(str(exc)) from None


def describe(freeze: Freeze) -> str:
    until = f" until {freeze.until:%Y-%m-%d %H:%M:%S}Z" if freeze.until else ""
    running = " (running deployments finish)" if freeze.let_running_finish else ""
    return f"#{freeze.id} {freeze.scope.describe()}{until}{running}: {freeze.reason} (by {freeze.actor})"


async def run_freeze(ctx: Context, args: argparse.Namespace) -> int:
    _check(ctx, args, "freeze")
    until = parse_until(args.until, datetime.now(UTC)) if args.until is not None else None
    order = FreezeOrder(
        services=args.services,
        all_services=args.all_services,
        environment=args.env,
        reason=args.reason,
        until=until,
        let_running_finish=args.let_running_finish,
    )
    result = await operations(ctx).freeze(order)
    told = f"; told {len(result.signalled)} running deployment(s)"
    if result.signal_error:
        told = f"; {result.signal_error} (they see it at their next safe point)"
    ctx.emit(result, f"frozen {describe(result.freeze)}{told}")
    return 0


async def run_unfreeze(ctx: Context, args: argparse.Namespace) -> int:
    _check(ctx, args, "unfreeze")
    order = UnfreezeOrder(
        services=args.services, all_services=args.all_services, environment=args.env, reason=args.reason
    )
    result = await operations(ctx).unfreeze(order)
    lifted = ", ".join(describe(freeze) for freeze in result.lifted)
    ctx.emit(result, f"lifted {lifted}; told {len(result.signalled)} running deployment(s)")
    return 0
