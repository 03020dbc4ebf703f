"""The Pulumi runner: every stack operation in its own child process, previews, policy packs, recovery."""
