"""tripflow retry service: failed automations brought back on a backoff."""

SERVICE = "retry"
SCHEMA = "retry"
