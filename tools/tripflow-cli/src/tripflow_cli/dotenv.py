"""The development `.env`: written once with random secrets; the environment overrides it."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path


def standard_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def ensure_dotenv(path: Path) -> bool:
    """Write `.env` if it is missing; True when it was written now."""
    if path.exists():
        return False
    path.write_text(
        "# Written by `tripflow up` on first run: development settings with random secrets.\n"
        "# Variables set in the environment override these.\n"
        "TRIPFLOW_ENV=development\n"
        "TRIPFLOW_DATABASE_URL=postgresql://tripflow:tripflow@127.0.0.1:5432/tripflow\n"
        "TRIPFLOW_KAFKA_BOOTSTRAP=127.0.0.1:9092\n"
        f"TRIPFLOW_STRIPE_WEBHOOK_SECRETS=whsec_{secrets.token_hex(24)}\n"
        f"TRIPFLOW_STANDARD_WEBHOOK_SECRETS={standard_secret()}\n"
        f"TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS={standard_secret()}\n"
        f"TRIPFLOW_INTERNAL_KEYS={secrets.token_urlsafe(32)}\n"
    )
    path.chmod(0o600)
    return True
