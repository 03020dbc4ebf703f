"""Rollwright's control operations (freeze, unfreeze, …) as plain async functions: the CLI and the control API call
them with a Temporal client, a version store and plain arguments, and get pydantic results or a ControlError."""
