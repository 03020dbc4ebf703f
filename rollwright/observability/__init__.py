"""Logging set-up shared by every Rollwright process."""
