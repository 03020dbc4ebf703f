"""`python -m argocd_standin --port N --state FILE --repo PATH --speed F --token T` (a test/demo aid)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from argocd_standin.app import create_app
from argocd_standin.settings import StandinSettings
from rollwright.observability.logging import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="argocd_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--state", type=Path, required=True, help="JSON file keeping applications across restarts")
    parser.add_argument("--repo", type=Path, required=True, help="the GitOps repository (a bare repo is fine)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--token", default=os.environ.get("ARGOCD_STANDIN_TOKEN"), help="accepted bearer token")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--app-template", default="{service}-{env}-{region}")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token (or set ARGOCD_STANDIN_TOKEN): the stand-in never runs without auth")
    if not args.repo.exists():
        parser.error(f"--repo {args.repo} does not exist; create the GitOps repository first (git init --bare)")
    configure_logging()
    settings = StandinSettings(
        repo=args.repo,
        state_file=args.state,
        token=args.token,
        speed=args.speed,
        branch=args.branch,
        app_template=args.app_template,
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
