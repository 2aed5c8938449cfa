"""tripflow webhook gateway."""

SERVICE = "webhook-gateway"
SCHEMA = "gateway"
