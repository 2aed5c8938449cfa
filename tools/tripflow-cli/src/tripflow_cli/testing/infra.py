from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg


@dataclass(frozen=True)
class TestInfra:
    __test__ = False  # a fixture value, not a test class
    admin_database_url: str  # a database we may CREATE/DROP from
    kafka_bootstrap: str
    source: str


def docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def provide_infra() -> Iterator[TestInfra]:
    db = os.environ.get("TRIPFLOW_TEST_DATABASE_URL")
    kafka = os.environ.get("TRIPFLOW_TEST_KAFKA_BOOTSTRAP")
    if db and kafka:
        yield TestInfra(db, kafka, "environment")
        return
    if os.environ.get("TRIPFLOW_TEST_INFRA") != "local" and docker_engine_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with (
            PostgresContainer("postgres:16-alpine", driver=None) as pg,
            KafkaContainer("apache/kafka:4.1.0").with_kraft() as kafka_container,
        ):
            yield TestInfra(
                pg.get_connection_url(), kafka_container.get_bootstrap_server(), "testcontainers"
            )
        return
    from tripflow_cli.infra import Kafka, Postgres
    from tripflow_common.settings import CommonSettings

    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    database_url = os.environ.get("TRIPFLOW_DATABASE_URL", settings.database_url)
    bootstrap = os.environ.get("TRIPFLOW_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    Postgres(database_url).up()
    Kafka(bootstrap, settings.topic_partitions).up()
    yield TestInfra(database_url, bootstrap, "tripflow infra")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(
        url.replace("postgresql+asyncpg://", "postgresql://").replace(
            "postgresql+psycopg2://", "postgresql://"
        )
    )
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


async def create_database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(with_database(admin_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(admin_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def session_names() -> tuple[str, str]:
    """A database name and a Kafka namespace unique to this test session."""
    tag = uuid.uuid4().hex[:8]
    return f"tripflow_test_{tag}", f"t{tag}."
