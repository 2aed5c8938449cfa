"""JSON logging that never lets a secret, a signature or a payload through."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

SENSITIVE_KEY = re.compile(
    r"secret|signature|password|token|authorization|api[-_]?key|internal[-_]?key|payload|body|raw",
    re.IGNORECASE,
)
SENSITIVE_VALUE = re.compile(
    r"(whsec_[A-Za-z0-9+/=]+)"
    r"|(sk_(?:live|test)_[A-Za-z0-9]+)"
    r"|(v1=[0-9a-fA-F]{16,})"
    r"|(v1,[A-Za-z0-9+/=]{16,})"
    r"|(Bearer\s+[A-Za-z0-9._~+/=-]+)"
    r"|(://[^:/@\s]+:[^@\s]+@)"
)
REDACTED = "[redacted]"
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    """Mask anything that looks like a webhook secret, signature, bearer token or URL password."""

    def _mask(match: re.Match[str]) -> str:
        if match.group(6):
            return "://" + REDACTED + "@"
        return REDACTED

    return SENSITIVE_VALUE.sub(_mask, text)


def redact(value: Any, key: str = "") -> Any:
    """Redact a structure: sensitive keys lose their value, strings are scanned."""
    if key and SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = redact(value, key)
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and its redacted message, not a traceback full of locals.
            entry["error_type"] = record.exc_info[0].__name__
            entry["error"] = redact_text(str(record.exc_info[1]))[:500]
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, FastStream's, aiokafka's) through the JSON formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
