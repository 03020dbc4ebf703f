"""Rollwright's built-in policy pack; `pulumi-analyzer-policy-python` runs this directory's `__main__.py`."""
