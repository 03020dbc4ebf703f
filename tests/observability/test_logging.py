"""Secrets never reach a log line: not through structlog fields, not through a library's stdlib logging."""

from __future__ import annotations

import json
import logging

import pytest

from rollwright.observability.logging import configure_logging, get_logger, register_secret

SECRET = "T000-B000-SUPERSECRETTOKEN"


def test_secrets_are_redacted_in_service_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "DEBUG")
    register_secret(SECRET)

    get_logger("rollwright.test").info("notify", url=f"https://hooks.example/services/{SECRET}", argocd_token="abc")
    logging.getLogger("some.library").warning("POST https://hooks.example/services/%s failed", SECRET)
    logging.getLogger("httpx").info("HTTP Request: POST https://hooks.example/services/%s", SECRET)

    err = capsys.readouterr().err
    assert SECRET not in err
    structured = json.loads(next(line for line in err.splitlines() if line.startswith("{")))
    assert structured["url"] == "https://hooks.example/services/[redacted]"
    assert structured["argocd_token"] == "[redacted]"
    assert "WARNING some.library: POST https://hooks.example/services/[redacted] failed" in err
    # Request lines at INFO are not logged at all: URLs are where secrets hide.
    assert "HTTP Request" not in err
