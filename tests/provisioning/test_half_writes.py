"""A `pulumi` killed while it saved a stack's checkpoint, on the real CLI and file backend.

The backend (gocloud's fileblob) saves a blob by writing a temporary file, then rewriting the blob's `.attrs`
sidecar in place, then renaming the temporary file over the blob. Killed inside the sidecar rewrite, it leaves an
empty sidecar beside the old checkpoint, a temporary file and its stale lock — and every later operation on the
stack fails with `failed to load checkpoint: EOF`, for good (found by tests/chaos, seed 4: the provision of
search-api-prod-us-east-1 failed nine times in a row after its worker was killed with its children).
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from rollwright.domain.identity import RegionTarget
from rollwright.provisioning.half_writes import remove_half_writes
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.settings import RunnerSettings
from rollwright.provisioning.working_copy import read_region_manifests
from rollwright.stacks.inputs import StackInputs
from tests.provisioning.conftest import make_settings

TARGET = RegionTarget(service="shop", environment="staging", region="half-a")
DIGEST_1 = "sha256:" + "5" * 64
DIGEST_2 = "sha256:" + "6" * 64
PROGRAM = "rollwright.stacks.web_service:program"
GUARD = GuardrailContext(environment="staging")


def _inputs(provisioner: Provisioner, digest: str) -> StackInputs:
    return StackInputs(
        target=TARGET,
        image="registry.local:5000/shop/api",
        digest=digest,
        canary_steps=[],
        settings={"replicas": 1},
        manifests_dir=str(provisioner.manifests_dir(TARGET.stack_name)),
        data_dir=str(provisioner.data_dir()),
    )


def _meta(settings: RunnerSettings) -> Path:
    assert settings.backend_dir is not None
    return settings.backend_dir / ".pulumi"


def _checkpoint(settings: RunnerSettings) -> Path:
    return _meta(settings) / "stacks" / settings.project / f"{TARGET.stack_name}.json"


def _killed_mid_save(settings: RunnerSettings) -> list[Path]:
    """The files a CLI killed inside a checkpoint save leaves, as the chaos run found them; returns the debris."""
    checkpoint = _checkpoint(settings)
    temporary = checkpoint.with_name(checkpoint.name + ".18ed3de4467b9e4e.tmp")
    temporary.write_bytes(checkpoint.read_bytes())
    Path(f"{checkpoint}.attrs").write_bytes(b"")
    # A history entry whose sidecar was written but whose blob was never renamed into place.
    history = _meta(settings) / "history" / settings.project / TARGET.stack_name
    orphan = history / f"{TARGET.stack_name}-1796160000000000000.history.json.attrs"
    orphan_temporary = history / f"{TARGET.stack_name}-1796160000000000000.history.json.5d1f0e2a9c.tmp"
    orphan.write_text("{}")
    orphan_temporary.write_text("{}")
    # Its lock: it never unlocked. This test's own pid is alive but no pulumi, so the lock is a dead one's.
    lock_dir = _meta(settings) / "locks" / "organization" / settings.project / TARGET.stack_name
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = {"pid": os.getpid(), "hostname": socket.gethostname(), "timestamp": datetime.now(UTC)}
    (lock_dir / "dead.json").write_text(json.dumps(lock, default=str))
    (lock_dir / "dead.json.attrs").write_text("{}")
    return [temporary, orphan, orphan_temporary]


async def test_a_stack_whose_checkpoint_save_was_killed_provisions_again_and_keeps_no_debris(
    tmp_path: Path, pulumi_bin_dirs: list[Path]
) -> None:
    settings = make_settings(tmp_path, pulumi_bin_dirs)
    provisioner = Provisioner(settings)
    first = await provisioner.provision(_inputs(provisioner, DIGEST_1), PROGRAM, GUARD)
    assert first.error is None
    debris = _killed_mid_save(settings)

    result = await provisioner.provision(_inputs(provisioner, DIGEST_2), PROGRAM, GUARD)

    assert result.error is None
    rendered = read_region_manifests(provisioner.manifests_dir(TARGET.stack_name), TARGET)
    assert DIGEST_2 in "".join(rendered.values())
    assert json.loads(Path(f"{_checkpoint(settings)}.attrs").read_text())  # rewritten whole by the save
    assert [path for path in debris if path.exists()] == []


def test_an_unreadable_sidecar_goes_at_once_but_temporary_files_only_once_their_writer_died(tmp_path: Path) -> None:
    backend, project, stack = tmp_path / "state", "rollwright", TARGET.stack_name
    stacks = backend / ".pulumi" / "stacks" / project
    stacks.mkdir(parents=True)
    (stacks / f"{stack}.json").write_text("{}")
    empty, whole = stacks / f"{stack}.json.attrs", stacks / f"{stack}.json.bak.attrs"
    empty.write_bytes(b"")
    whole.write_text("{}")
    (stacks / f"{stack}.json.bak").write_text("{}")
    temporary = stacks / f"{stack}.json.0a1b2c.tmp"
    temporary.write_text("{}")
    other_stack = stacks / "shop-prod-half-b.json.attrs"
    other_stack.write_bytes(b"")

    # A live writer may own a temporary file; an empty sidecar is never readable, whoever writes it.
    assert remove_half_writes(backend, project, stack, writer_died=False) == [empty]
    assert temporary.exists()
    assert remove_half_writes(backend, project, stack, writer_died=True) == [temporary]
    assert whole.exists()
    assert other_stack.exists()  # another stack's files are its own runs' business
