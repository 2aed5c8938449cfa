"""tripflow admin API and console."""

SERVICE = "admin-api"
SCHEMA = "admin"
