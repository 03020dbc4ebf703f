"""Stack locks on the real pulumi file backend: a live run's lock is busy; a lock left by a run killed mid-`up`
is cleared with its `.attrs` sidecar, leaving nothing in the lock directory, and the stack works again."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from rollwright.domain.identity import RegionTarget
from rollwright.provisioning.errors import ProvisioningError, StackBusyError
from rollwright.provisioning.locks import clear_stale_locks, stack_locks
from rollwright.provisioning.process_tree import command_if_running, kill_tree, session_members
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.settings import RunnerSettings
from rollwright.stacks.inputs import StackInputs
from tests.provisioning.conftest import make_settings

TARGET = RegionTarget(service="shop", environment="staging", region="lock-a")
DIGEST = "sha256:" + "4" * 64
PROGRAM = "rollwright.stacks.web_service:program"
SLOW_PROGRAM = "tests.provisioning.programs:slow_web_service"
GUARD = GuardrailContext(environment="staging")


def _inputs(provisioner: Provisioner, **settings: object) -> StackInputs:
    return StackInputs(
        target=TARGET,
        image="registry.local:5000/shop/api",
        digest=DIGEST,
        canary_steps=[],
        settings={"replicas": 1, **settings},
        manifests_dir=str(provisioner.manifests_dir(TARGET.stack_name)),
        data_dir=str(provisioner.data_dir()),
    )


async def _until(path: Path, limit_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + limit_seconds
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.1)


def _lock_dir(settings: RunnerSettings) -> Path:
    assert settings.backend_dir is not None
    return settings.backend_dir / ".pulumi" / "locks" / "organization" / settings.project / TARGET.stack_name


async def test_a_lock_left_by_a_run_killed_mid_up_is_cleared_without_debris(
    tmp_path: Path, pulumi_bin_dirs: list[Path]
) -> None:
    settings = make_settings(tmp_path, pulumi_bin_dirs)
    assert settings.backend_dir is not None
    provisioner = Provisioner(settings)
    marker = tmp_path / "slow.marker"
    slow = _inputs(provisioner, slow_marker=str(marker), slow_seconds=60)
    run = asyncio.create_task(provisioner.provision(slow, SLOW_PROGRAM, GUARD))
    await _until(marker)

    # Mid-`up`, the CLI holds the lock and is alive: busy, and nothing is removed.
    [lock] = stack_locks(settings.backend_dir, settings.project, TARGET.stack_name)
    assert (command_if_running(lock.pid) or "").startswith("pulumi")
    with pytest.raises(StackBusyError, match=f"pid {lock.pid}"):
        clear_stale_locks(settings.backend_dir, settings.project, TARGET.stack_name)
    assert lock.path.exists()

    # The whole run (child, CLI, plugins) dies at once, as in a worker killed by the OOM killer.
    run_session = os.getsid(lock.pid)
    kill_tree(run_session)
    with pytest.raises(ProvisioningError):
        await run
    assert session_members(run_session) == []
    left = sorted(path.name for path in _lock_dir(settings).iterdir())
    assert left == [lock.path.name, lock.path.name + ".attrs"]  # the CLI never unlocked

    assert clear_stale_locks(settings.backend_dir, settings.project, TARGET.stack_name) == 1
    assert list(_lock_dir(settings).iterdir()) == []

    # The stack is usable again, and its own unlock leaves nothing either.
    result = await provisioner.provision(_inputs(provisioner), PROGRAM, GUARD)
    assert result.error is None
    assert list(_lock_dir(settings).iterdir()) == []


@pytest.fixture
def pulumi_lookalike(tmp_path: Path) -> Iterator[int]:
    """A live process named `pulumi` that holds no lock: what a reused pid can look like."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    binary = tmp_path / "bin" / "pulumi"
    binary.parent.mkdir()
    shutil.copy(sleep, binary)
    proc = subprocess.Popen([str(binary), "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _write_lock(lock_dir: Path, pid: int, taken_at: datetime) -> None:
    lock_dir.mkdir(parents=True, exist_ok=True)
    content = {
        "pid": pid,
        "username": "rollwright",
        "hostname": socket.gethostname(),
        "timestamp": taken_at.isoformat(),
    }
    (lock_dir / "held.json").write_text(json.dumps(content))
    (lock_dir / "held.json.attrs").write_text("{}")


def test_a_lock_is_judged_by_what_its_pid_runs_now_and_since_when(tmp_path: Path, pulumi_lookalike: int) -> None:
    backend, project = tmp_path / "state", "rollwright"
    lock_dir = backend / ".pulumi" / "locks" / "organization" / project / TARGET.stack_name
    started = datetime.fromtimestamp(psutil.Process(pulumi_lookalike).create_time(), UTC)

    # A pulumi process that was already running when the lock was taken may hold it.
    _write_lock(lock_dir, pulumi_lookalike, started + timedelta(seconds=1))
    with pytest.raises(StackBusyError):
        clear_stale_locks(backend, project, TARGET.stack_name)
    assert len(list(lock_dir.iterdir())) == 2

    # One that started long after the lock cannot have taken it: the pid was reused.
    _write_lock(lock_dir, pulumi_lookalike, started - timedelta(hours=1))
    assert clear_stale_locks(backend, project, TARGET.stack_name) == 1
    assert list(lock_dir.iterdir()) == []

    # A live process that is not pulumi (this test) holds no pulumi lock.
    _write_lock(lock_dir, os.getpid(), datetime.now(UTC))
    assert clear_stale_locks(backend, project, TARGET.stack_name) == 1
    assert list(lock_dir.iterdir()) == []


def test_a_sidecar_an_earlier_clearing_left_alone_is_removed_but_not_one_being_written(tmp_path: Path) -> None:
    backend, project = tmp_path / "state", "rollwright"
    lock_dir = backend / ".pulumi" / "locks" / "organization" / project / TARGET.stack_name
    lock_dir.mkdir(parents=True)
    left_behind, being_written = lock_dir / "old.json.attrs", lock_dir / "new.json.attrs"
    left_behind.write_text("{}")
    an_hour_ago = time.time() - 3600
    os.utime(left_behind, (an_hour_ago, an_hour_ago))
    # The backend writes a sidecar just before renaming its lock into place.
    being_written.write_text("{}")

    assert clear_stale_locks(backend, project, TARGET.stack_name) == 0
    assert list(lock_dir.iterdir()) == [being_written]
