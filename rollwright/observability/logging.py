"""structlog configured once: JSON lines for services, readable key=value in a terminal, secrets redacted."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO, cast

import structlog

REDACTED = "[redacted]"
_SECRET_KEY_RE = re.compile(r"(secret|token|password|passphrase|api[_-]?key|authorization|signature)", re.I)
_known_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Make a secret value unprintable: any log field containing it is redacted from now on."""
    if len(value) >= 4:
        _known_secrets.add(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _known_secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY_RE.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: secret-looking keys and known secret values never reach the output."""
    for key in list(event_dict):
        if _SECRET_KEY_RE.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


class _CurrentStderr(io.TextIOBase):
    """Whatever `sys.stderr` is when a line is written, not the stream seen when logging was configured:
    test runners and daemonizers replace it, and a closed one must not take logging down with it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


# TextIOBase is all the writers use of a TextIO; structlog's signature asks for the nominal type.
_CURRENT_STDERR = cast(TextIO, _CurrentStderr())


class _ScrubStdlibRecords(logging.Filter):
    """Known secret values never leave through a library's own log lines either."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = _scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(mode: Literal["auto", "json", "console"] = "auto", level: str = "INFO") -> None:
    """JSON when a service writes to a pipe or file; key=value for a person at a terminal."""
    use_json = mode == "json" or (mode == "auto" and not sys.stderr.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    numeric_level = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=_CURRENT_STDERR),
        cache_logger_on_first_use=False,
    )
    # Library loggers (uvicorn, temporalio, httpx) go through the stdlib: same level, same redaction.
    handler = logging.StreamHandler(_CURRENT_STDERR)
    handler.addFilter(_ScrubStdlibRecords())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=numeric_level, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and URLs can carry secrets (Slack webhooks, path tokens); Alembic
    # tells of every migration context at INFO on each worker start, which says nothing an operator needs.
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(max(numeric_level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
