"""`rollwright`: the operator's command line.

Exit codes: 0 success, 1 the operation failed (rejected, unreachable, not found), 2 a usage or
validation error. Every failure is one line on stderr that says why; `--json` prints results for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from typing import IO, NoReturn

from pydantic import ValidationError

from rollwright.cli.commands import controls, deploy, freeze, history, lanes, preview, status, versions, webhook
from rollwright.cli.context import Context, one_line
from rollwright.cli.errors import CliError, UsageError, as_cli_error
from rollwright.config import ConfigError, load_config
from rollwright.connections.temporal import exit_without_finalizing
from rollwright.control.errors import ControlError
from rollwright.observability.logging import configure_logging

PROG = "rollwright"
CONFIG_ENV = "ROLLWRIGHT_CONFIG"
DEFAULT_CONFIG = "rollwright.yaml"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _common(*, suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the command (`rollwright --json status` = `rollwright status --json`)."""
    # Sub-commands must not reset what the top level already parsed, hence SUPPRESS there.
    default = argparse.SUPPRESS if suppress else None
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        default=default,
        help=f"config file (default: ${CONFIG_ENV} or {DEFAULT_CONFIG})",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS if suppress else False, help="JSON output"
    )
    common.add_argument("--actor", default=default, help="who is acting (default: the OS user)")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None, parents=[_common(suppress=False)]
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    common = _common(suppress=True)
    for module in (deploy, status, controls, freeze, lanes, history, versions, preview, webhook):
        module.register(sub, common)
    return parser


async def _run(args: argparse.Namespace, out: IO[str]) -> int:
    path = args.config or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    try:
        config = load_config(path)
    except ConfigError as exc:
        raise UsageError(one_line(exc, limit=500)) from None
    actor = (args.actor or _default_actor()).strip()
    if not actor:
        raise UsageError("--actor must name someone")
    ctx = Context(config=config, actor=actor, as_json=args.json, out=out)
    try:
        code: int = await args.func(ctx, args)
    except ControlError as exc:
        raise as_cli_error(exc) from None
    except ValidationError as exc:  # an order built from the arguments (a reason over its length limit, say)
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"{where}: {first['msg']}") from None
    return code


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    configure_logging("auto", os.environ.get("ROLLWRIGHT_LOG_LEVEL", "WARNING"))
    try:
        args = build_parser().parse_args(argv)
        # A command may name its own event loop (the webhook receiver runs on uvloop); others get asyncio's.
        with asyncio.Runner(loop_factory=getattr(args, "loop_factory", None)) as runner:
            return runner.run(_run(args, out))
    except CliError as exc:
        print(f"{PROG}: {'error: ' if isinstance(exc, UsageError) else ''}{exc}", file=err)
        return exc.exit_code
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=err)
        return 130
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"{PROG}: failed: {type(exc).__name__}: {one_line(exc)}", file=err)
        return 1


def run() -> None:
    """The `rollwright` console script: `main`, then a clean exit (see exit_without_finalizing)."""
    exit_without_finalizing(main())
