"""Settings shared by every service: `TRIPFLOW_*` environment variables and `.env`."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]

PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "example", "xxx")


class SettingsError(RuntimeError):
    """A setting is missing or unusable; the message names the variable."""


def split_comma_list(value: Any) -> Any:
    """Accept `a,b` (environment form) as well as a real list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class CommonSettings(BaseSettings):
    """Base of every service's settings class."""

    model_config = SettingsConfigDict(
        env_prefix="TRIPFLOW_", env_file=".env", extra="ignore", env_file_encoding="utf-8"
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql://tripflow:tripflow@127.0.0.1:5432/tripflow"
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Prefix for every topic and consumer group: isolates environments (or test runs) sharing a broker.
    kafka_namespace: str = ""
    topic_partitions: int = 6
    internal_keys: CommaList = []
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    outbox_batch_size: int = 500
    outbox_poll_interval_seconds: float = 1.0
    heartbeat_interval_seconds: float = 15.0

    _split_internal = field_validator("internal_keys", mode="before")(split_comma_list)

    def topic(self, name: str) -> str:
        """The Kafka topic for an event type, in this deployment's namespace."""
        return f"{self.kafka_namespace}{name}"

    def group(self, name: str) -> str:
        return f"{self.kafka_namespace}{name}"

    @property
    def async_database_url(self) -> str:
        """The database URL with the asyncpg driver that SQLAlchemy needs."""
        url = self.database_url
        for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        raise SettingsError(
            "TRIPFLOW_DATABASE_URL must be a postgresql:// URL "
            f"(got a URL with scheme {urlsplit(url).scheme!r})"
        )

    @property
    def plain_database_url(self) -> str:
        """The database URL in the libpq form that asyncpg.connect takes."""
        return "postgresql://" + self.async_database_url.split("://", 1)[1]

    @property
    def database_target(self) -> str:
        """host:port/database, for messages; never the password."""
        parts = urlsplit(self.plain_database_url)
        return f"{parts.hostname}:{parts.port or 5432}{parts.path}"

    def require_secrets(self, name: str, values: list[str]) -> None:
        """Stop with a clear message when a secret list is empty, or a placeholder in production."""
        variable = f"TRIPFLOW_{name.upper()}"
        if not values:
            raise SettingsError(f"{variable} is not set: give one or more comma-separated secrets")
        if self.env == "production":
            for value in values:
                if len(value) < 16 or any(m in value.lower() for m in PLACEHOLDER_MARKERS):
                    raise SettingsError(
                        f"{variable} holds a placeholder or too short secret; "
                        "production refuses to start with it"
                    )
