"""What a `pulumi` killed while writing leaves in one stack's files on a file backend, and its removal.

The backend (gocloud's fileblob) writes a blob in three moves: the content into a temporary file beside it
(`<name>.<random>.tmp`), the `<name>.attrs` sidecar rewritten in place, then the temporary file renamed over the
blob. A process killed in between leaves:

- a sidecar cut short (empty, or half its JSON): the backend cannot read the blob any more ("failed to load
  checkpoint: EOF" for the stack's checkpoint), on every later run, until it is removed; without one, the
  backend reads the blob with default attributes, so removing it is always safe;
- a temporary file that is never renamed, and for a blob that did not exist yet a sidecar without its blob:
  debris, growing with every crash.

Remove them only while no live process holds the stack (after clearing dead processes' locks); temporary files
and sidecars without their blob only when a writer of this stack is known to have died (its lock was stale),
since a live writer owns them for the moment between its moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from rollwright.observability.logging import get_logger

log = get_logger(__name__)

SIDECAR_SUFFIX = ".attrs"
TEMPORARY_SUFFIX = ".tmp"


def _stack_files(backend_dir: Path, project: str, stack: str) -> Iterator[Path]:
    """The stack's checkpoint (and its backup copy), its update history and its checkpoint backups."""
    meta = backend_dir / ".pulumi"
    stacks = meta / "stacks" / project
    if stacks.is_dir():
        yield from (p for p in stacks.iterdir() if p.name.startswith(f"{stack}.json"))
    for kind in ("history", "backups"):
        own = meta / kind / project / stack
        if own.is_dir():
            yield from own.iterdir()


def _unreadable(sidecar: Path) -> bool:
    try:
        json.loads(sidecar.read_bytes())
    except FileNotFoundError:
        return False
    except ValueError:
        return True
    return False


def _debris(path: Path, *, writer_died: bool) -> bool:
    if path.name.endswith(SIDECAR_SUFFIX):
        if _unreadable(path):
            return True
        return writer_died and not path.with_name(path.name.removesuffix(SIDECAR_SUFFIX)).exists()
    return writer_died and path.name.endswith(TEMPORARY_SUFFIX)


def remove_half_writes(backend_dir: Path, project: str, stack: str, *, writer_died: bool) -> list[Path]:
    """Remove what killed writers left half-done in `stack`'s files; returns what was removed."""
    removed = []
    for path in sorted(_stack_files(backend_dir, project, stack)):
        if _debris(path, writer_died=writer_died):
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.warning("half_writes_removed", stack=stack, files=[p.name for p in removed])
    return removed
