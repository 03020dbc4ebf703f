"""Secret references and reading them at the moment they are needed.

A config file names where a secret is kept (an environment variable or a file), never the secret; the value
never lands in config objects or logs. Clients take the references too, so they sit below the config layer.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator


class SecretRef(BaseModel):
    """Where a secret comes from: an environment variable or a file. Never the secret itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("set exactly one of 'env' or 'file'")
        return self


class SecretUnavailableError(RuntimeError):
    """A configured secret's env var is unset or its file is unreadable."""


def read_secret(ref: SecretRef) -> str:
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None:
            raise SecretUnavailableError(f"environment variable {ref.env} is not set")
        return value
    assert ref.file is not None
    path = Path(ref.file).expanduser()
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SecretUnavailableError(f"cannot read secret file {path}: {exc.strerror}") from exc
