"""Lifecycle against real Kafka and PostgreSQL: exactly-once effects over at-least-once delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tripflow_cli.testing.apps import eventually, running_app
from tripflow_cli.testing.factories import (
    booking_event,
    documents_event,
    new_booking_id,
    payment_event,
    supplier_event,
)
from tripflow_cli.testing.kafka import publish, read_topic
from tripflow_common.events import Envelope
from tripflow_lifecycle.app import create_app
from tripflow_lifecycle.settings import LifecycleSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lifecycle(tripflow_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(LifecycleSettings())) as client:
        yield client


async def send(env: dict[str, str], event: Envelope, times: int = 1) -> None:
    ns = env["TRIPFLOW_KAFKA_NAMESPACE"]
    await publish(env["TRIPFLOW_KAFKA_BOOTSTRAP"], ns + event.type, [event] * times)


async def status_of(db: asyncpg.Connection, booking_id: str) -> str | None:
    return await db.fetchval(
        "SELECT status FROM lifecycle.bookings WHERE booking_id = $1", booking_id
    )


async def failures_for(env: dict[str, str], booking_id: str, count: int) -> list[dict]:
    return await read_topic(
        env["TRIPFLOW_KAFKA_BOOTSTRAP"],
        env["TRIPFLOW_KAFKA_NAMESPACE"] + "automation.failed",
        match=lambda e: e.get("booking_id") == booking_id,
        until=lambda found: len(found) >= count,
        timeout=20,
    )


async def test_each_event_five_times_has_one_effect(
    lifecycle: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    bid = new_booking_id()
    await send(tripflow_env, booking_event(bid, 50_000), times=5)
    await eventually(lambda: status_of(db, bid), what="booking created")
    await send(tripflow_env, payment_event(bid, 50_000), times=5)
    await eventually(lambda: _is(db, bid, "payment_confirmed"), what="payment confirmed")
    await send(tripflow_env, supplier_event(bid), times=5)
    await eventually(lambda: _is(db, bid, "supplier_confirmed"), what="supplier confirmed")
    await send(tripflow_env, documents_event(bid), times=5)
    await eventually(lambda: _is(db, bid, "fulfilled"), what="fulfilled")

    assert (
        await db.fetchval("SELECT count(*) FROM lifecycle.payments WHERE booking_id=$1", bid) == 1
    )
    rows = await db.fetch(
        "SELECT to_status, count(*) AS n FROM lifecycle.booking_transitions WHERE booking_id=$1 GROUP BY to_status",
        bid,
    )
    assert {r["to_status"]: r["n"] for r in rows} == {
        "pending_payment": 1,
        "payment_confirmed": 1,
        "supplier_confirmed": 1,
        "fulfilled": 1,
    }
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    for topic in ("booking.payment_confirmed", "booking.supplier_confirmed", "booking.fulfilled"):
        await eventually(
            lambda: db.fetchval(
                "SELECT count(*) = 0 FROM lifecycle.outbox WHERE sent_at IS NULL AND key = $1", bid
            ),
            what="outbox drained",
        )
        emitted = await read_topic(
            bootstrap,
            ns + topic,
            match=lambda e: e.get("booking_id") == bid,
            until=lambda found: False,
            timeout=2,
        )
        assert len(emitted) == 1, topic
        assert emitted[0]["_key"] == bid
    payment_snapshot = (
        await read_topic(
            bootstrap,
            ns + "booking.payment_confirmed",
            match=lambda e: e.get("booking_id") == bid,
            until=lambda found: len(found) >= 1,
        )
    )[0]["data"]
    assert payment_snapshot["total_amount"] == 50_000
    assert payment_snapshot["payment"]["amount"] == 50_000
    assert payment_snapshot["customer"]["email"] == "ada@example.com"


async def _is(db: asyncpg.Connection, bid: str, status: str) -> bool:
    return await status_of(db, bid) == status


async def test_amount_mismatch_is_a_non_retryable_failure(
    lifecycle: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    bid = new_booking_id()
    await send(tripflow_env, booking_event(bid, 80_000, "EUR"))
    await eventually(lambda: status_of(db, bid), what="booking created")
    await send(tripflow_env, payment_event(bid, 79_999, "EUR"))
    failures = await failures_for(tripflow_env, bid, 1)
    assert len(failures) == 1
    data = failures[0]["data"]
    assert data["retryable"] is False
    assert data["error_type"] == "amount_mismatch"
    assert "79999" in data["error_message"] and "80000" in data["error_message"]
    assert data["consumer_group"] == "lifecycle"
    assert data["event"]["type"] == "payment.confirmed"
    assert await status_of(db, bid) == "pending_payment"
    assert (
        await db.fetchval("SELECT count(*) FROM lifecycle.payments WHERE booking_id=$1", bid) == 0
    )


async def test_supplier_before_payment_and_unknown_booking_are_retryable(
    lifecycle: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    unknown = new_booking_id("BK-UNKNOWN")
    await send(tripflow_env, payment_event(unknown))
    failure = (await failures_for(tripflow_env, unknown, 1))[0]["data"]
    assert (failure["error_type"], failure["retryable"]) == ("booking_not_found", True)

    bid = new_booking_id()
    await send(tripflow_env, booking_event(bid))
    await eventually(lambda: status_of(db, bid), what="booking created")
    await send(tripflow_env, supplier_event(bid))
    failure = (await failures_for(tripflow_env, bid, 1))[0]["data"]
    assert (failure["error_type"], failure["retryable"]) == ("invalid_transition", True)
    assert failure["failure_key"] == f"lifecycle:{failure['event']['event_id']}"
    assert await status_of(db, bid) == "pending_payment"


async def test_undecodable_message_is_reported_with_its_bytes(
    lifecycle: httpx.AsyncClient, tripflow_env: dict[str, str]
) -> None:
    key = new_booking_id("BK-GARBAGE")
    await publish(
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"] + "payment.confirmed",
        [b'{"not": "an envelope"}'],
        key=key,
    )
    failure = (await failures_for(tripflow_env, key, 1))[0]["data"]
    assert failure["retryable"] is False
    assert failure["error_type"] == "undecodable_event"
    assert failure["event"] is None
    import base64

    assert base64.b64decode(failure["raw_base64"]) == b'{"not": "an envelope"}'


async def test_readiness_reports_database_and_kafka(lifecycle: httpx.AsyncClient) -> None:
    r = await lifecycle.get("/readyz")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert checks["database"]["ok"] and checks["kafka"]["ok"]
