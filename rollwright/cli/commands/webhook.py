"""`rollwright webhook`: serve the webhook receiver until interrupted."""

from __future__ import annotations

import argparse

from rollwright.cli.context import Context
from rollwright.cli.errors import UsageError
from rollwright.connections.temporal import TemporalSettingsError, connect_temporal
from rollwright.secrets import SecretUnavailableError
from rollwright.webhooks.auth import WebhookAuthConfigError
from rollwright.webhooks.server import event_loop, serve, split_listen


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("webhook", parents=[common], help="serve the registry webhook receiver")
    parser.add_argument("--listen", help="HOST:PORT (default: webhooks.listen from the config)")
    parser.set_defaults(func=run, loop_factory=event_loop)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    listen = args.listen or ctx.config.webhooks.listen
    try:
        split_listen(listen)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # Lazy: the receiver starts (and /healthz answers) before Temporal is reachable; /readyz tells the difference.
    try:
        client = await connect_temporal(ctx.config.temporal, lazy=True)
    except TemporalSettingsError as exc:
        raise UsageError(str(exc)) from None
    try:
        await serve(ctx.config, client, listen=listen)
    except WebhookAuthConfigError as exc:
        raise UsageError(str(exc)) from None
    except SecretUnavailableError as exc:
        raise UsageError(f"api.control_key: {exc}") from None
    return 0
