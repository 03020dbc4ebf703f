"""The Alembic revisions (Alembic skips this file); a package so that setuptools ships them."""
