"""One module per command group; each adds its sub-commands with `register(subparsers, common)`."""
