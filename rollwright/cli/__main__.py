from rollwright.cli.main import main
from rollwright.connections.temporal import exit_without_finalizing

exit_without_finalizing(main())
