"""The local stack launcher: real Temporal, registry, PostgreSQL and Pulumi CLI for tests and the demo.

Every process is started in its own process group and stopped (TERM, then KILL) when its context exits,
so a failing test leaves nothing behind.
"""
