"""Rollwright's vocabulary: the few names every layer shares (targets, digests, durations, plans)."""
