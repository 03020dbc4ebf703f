from connections.temporal import exit_without_finalizing
from operator_cli.main import main

exit_without_finalizing(main())
