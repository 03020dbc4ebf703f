"""Running real git, asynchronously, in one working copy."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from rollwright.gitops.errors import GitCommandError

# No prompts, no user or system config leaking into what a commit looks like.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}


class Git:
    def __init__(self, cwd: Path, timeout: float = 120.0) -> None:
        self.cwd = cwd
        self._timeout = timeout

    async def run(self, *args: str, check: bool = True, stdin: str | None = None) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=self.cwd,
            env={**os.environ, **_ENV},
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(stdin.encode() if stdin is not None else None), self._timeout
            )
        except (TimeoutError, asyncio.CancelledError):
            proc.kill()
            await proc.wait()
            raise
        code = proc.returncode if proc.returncode is not None else -1
        if check and code != 0:
            raise GitCommandError(list(args), code, err.decode(errors="replace"))
        return code, out.decode(errors="replace"), err.decode(errors="replace")

    async def out(self, *args: str) -> str:
        return (await self.run(*args))[1].strip()
