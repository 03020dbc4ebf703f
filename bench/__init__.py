"""Benchmarks: run by hand (`.venv/bin/python -m bench.<name>`), never collected by pytest (testpaths is tests/)."""
