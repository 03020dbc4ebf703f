"""Policy as code: Rollwright's built-in Pulumi policy pack (`builtin/`) and the rules it runs (`rules`).

The engine runs each pack in its own analyzer process, in the policy venv (tools/ensure-tools.sh); provisioning
hands it the pack's directory and its config, never imports it.
"""

from __future__ import annotations

from pathlib import Path

BUILTIN_PACK = Path(__file__).resolve().parent / "builtin"
