"""`rollwright preview SERVICE ENV TAG`: what Pulumi would change, region by region. Placeholder until the
provisioning package exposes its preview entry point."""

from __future__ import annotations

import argparse

from operator_cli.context import Context
from operator_cli.errors import OperationFailed


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("preview", parents=[common], help="preview the cloud changes a version would make")
    parser.add_argument("service")
    parser.add_argument("environment")
    parser.add_argument("tag")
    parser.set_defaults(func=run)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    ctx.service(args.service)
    raise OperationFailed("preview is not available yet")
