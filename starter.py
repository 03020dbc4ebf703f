"""How the outside world starts Rollwright work: the webhook receiver, and every operator command.

python starter.py                 serve the webhook receiver (same as `rollwright webhook`)
python starter.py status api      any `rollwright` command
"""

from __future__ import annotations

import sys

from rollwright.cli.main import main
from rollwright.connections.temporal import exit_without_finalizing

if __name__ == "__main__":
    exit_without_finalizing(main(sys.argv[1:] or ["webhook"]))
