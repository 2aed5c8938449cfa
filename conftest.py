"""Fixtures shared by every test in the repository (see tripflow_cli.testing)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tripflow_cli.testing.apps import ServiceProcesses
from tripflow_cli.testing.infra import (
    TestInfra,
    create_database,
    drop_database,
    provide_infra,
    session_names,
)
from tripflow_common.messaging.broker import ensure_topics


@pytest.fixture(scope="session")
def test_infra() -> Iterator[TestInfra]:
    with provide_infra() as infra:
        yield infra


@pytest.fixture(scope="session")
async def tripflow_env(test_infra: TestInfra) -> AsyncIterator[dict[str, str]]:
    """A database and a Kafka namespace of this session's own, exported as TRIPFLOW_* variables."""
    database, namespace = session_names()
    url = await create_database(test_infra.admin_database_url, database)
    env = {
        "TRIPFLOW_ENV": "test",
        "TRIPFLOW_DATABASE_URL": url,
        "TRIPFLOW_KAFKA_BOOTSTRAP": test_infra.kafka_bootstrap,
        "TRIPFLOW_KAFKA_NAMESPACE": namespace,
        "TRIPFLOW_STRIPE_WEBHOOK_SECRETS": f"whsec_test_{secrets.token_hex(16)},whsec_old_{secrets.token_hex(16)}",
        "TRIPFLOW_STANDARD_WEBHOOK_SECRETS": "whsec_"
        + base64.b64encode(secrets.token_bytes(24)).decode(),
        "TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS": "whsec_"
        + base64.b64encode(secrets.token_bytes(24)).decode(),
        "TRIPFLOW_INTERNAL_KEYS": f"ik_{secrets.token_hex(16)},ik_{secrets.token_hex(16)}",
        "TRIPFLOW_OUTBOX_POLL_INTERVAL_SECONDS": "0.5",
        "TRIPFLOW_HEARTBEAT_INTERVAL_SECONDS": "5",
        "TRIPFLOW_LOG_LEVEL": "INFO",
    }
    patch = pytest.MonkeyPatch()
    for key, value in env.items():
        patch.setenv(key, value)
    await ensure_topics(test_infra.kafka_bootstrap, 6, namespace=namespace)
    yield env
    patch.undo()
    await drop_database(test_infra.admin_database_url, database)


@pytest.fixture
async def db(tripflow_env: dict[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to this session's database, for asserting on rows."""
    conn = await asyncpg.connect(tripflow_env["TRIPFLOW_DATABASE_URL"])
    yield conn
    await conn.close()


@pytest.fixture
def processes(tmp_path: Path, tripflow_env: dict[str, str]) -> Iterator[ServiceProcesses]:
    procs = ServiceProcesses(tmp_path / "logs")
    yield procs
    procs.stop_all()
