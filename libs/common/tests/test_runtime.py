"""A service without its database or broker says which one and where, and keeps trying."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from tripflow_cli.testing.apps import free_port
from tripflow_common.messaging.broker import create_broker
from tripflow_common.runtime import ServiceRuntime
from tripflow_common.settings import CommonSettings
from tripflow_common.web.app import create_service_app


async def test_unreachable_database_is_reported_and_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("TRIPFLOW_DATABASE_URL", f"postgresql://u:secretpw@127.0.0.1:{port}/nowhere")
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name="probe", settings=settings, schema="probe", migrations="x:y", relay=False
    )
    app = create_service_app(runtime)
    caplog.set_level(logging.ERROR, logger="tripflow_common.runtime")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await asyncio.sleep(2.0)
        r = await client.get("/readyz")
        health = await client.get("/healthz")
    assert health.status_code == 200
    assert r.status_code == 503
    body = r.json()
    assert body["checks"]["database"] == {
        "ok": False,
        "target": f"127.0.0.1:{port}/nowhere",
        "error": body["checks"]["database"]["error"],
    }
    assert "database" in body["checks"]["started"]["waiting_for"]
    attempts = [rec for rec in caplog.records if "database not reachable" in rec.getMessage()]
    assert len(attempts) >= 2, "it retries with backoff instead of giving up"
    assert f"127.0.0.1:{port}/nowhere" in attempts[0].getMessage()
    assert all("secretpw" not in rec.getMessage() for rec in caplog.records)


@pytest.mark.integration
async def test_unreachable_broker_is_reported_while_database_is_fine(
    tripflow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    monkeypatch.setenv("TRIPFLOW_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name="probe",
        settings=settings,
        schema="probe",
        migrations="tripflow_retry:migrations",
        broker=create_broker(settings),
    )
    app = create_service_app(runtime)
    caplog.set_level(logging.ERROR, logger="tripflow_common.runtime")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        for _ in range(100):
            if any("kafka not reachable" in rec.getMessage() for rec in caplog.records):
                break
            await asyncio.sleep(0.2)
        r = await client.get("/readyz")
    checks = r.json()["checks"]
    assert r.status_code == 503
    assert checks["database"]["ok"] is True
    assert checks["kafka"] == {"ok": False, "target": f"127.0.0.1:{port}"}
    assert any(
        f"kafka not reachable at 127.0.0.1:{port}" in rec.getMessage() for rec in caplog.records
    )
