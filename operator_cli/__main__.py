import sys

from operator_cli.main import main

sys.exit(main())
