"""A supplier confirmation that arrives before the payment fails (retryable), and once the
payment is in, the failed step brought back on `retry.lifecycle` moves the booking on to
`fulfilled`. The retry service will do this on its backoff; here the test does it by hand,
exactly as the retry service publishes it (same envelope, retry headers).
"""

from __future__ import annotations

import asyncpg
import pytest

from tripflow_cli.testing.apps import ServiceProcesses, eventually
from tripflow_cli.testing.factories import (
    booking_event,
    new_booking_id,
    payment_event,
    supplier_event,
)
from tripflow_cli.testing.kafka import publish, read_topic
from tripflow_common.events import ATTEMPT_HEADER, RETRY_ID_HEADER, Envelope

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_supplier_before_payment_ends_fulfilled_after_retry(
    processes: ServiceProcesses, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    processes.start("lifecycle")
    processes.start("documents")
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    bid = new_booking_id()
    await publish(bootstrap, ns + "booking.created", [booking_event(bid, 60_000)])
    await eventually(
        lambda: db.fetchval("SELECT 1 FROM lifecycle.bookings WHERE booking_id=$1", bid)
    )

    await publish(bootstrap, ns + "supplier.confirmed", [supplier_event(bid, ref="EARLY-1")])
    failed = await read_topic(
        bootstrap,
        ns + "automation.failed",
        match=lambda e: e.get("booking_id") == bid,
        until=lambda found: len(found) >= 1,
    )
    assert failed[0]["data"]["retryable"] is True

    await publish(bootstrap, ns + "payment.confirmed", [payment_event(bid, 60_000)])
    await eventually(
        lambda: db.fetchval(
            "SELECT status = 'payment_confirmed' FROM lifecycle.bookings WHERE booking_id=$1", bid
        ),
        what="payment confirmed",
    )

    original = Envelope.model_validate(failed[0]["data"]["event"])
    await publish(
        bootstrap,
        ns + "retry.lifecycle",
        [original],
        headers={RETRY_ID_HEADER: "retry-by-hand-1", ATTEMPT_HEADER: "1"},
    )
    await eventually(
        lambda: db.fetchval(
            "SELECT status = 'fulfilled' FROM lifecycle.bookings WHERE booking_id=$1", bid
        ),
        what="fulfilled",
        timeout=45,
    )
    assert (
        await db.fetchval("SELECT supplier_ref FROM lifecycle.bookings WHERE booking_id=$1", bid)
        == "EARLY-1"
    )
    assert (
        await db.fetchval("SELECT count(*) FROM documents.documents WHERE booking_id=$1", bid) == 3
    )
    resolved = await read_topic(
        bootstrap,
        ns + "automation.resolved",
        match=lambda e: e.get("booking_id") == bid,
        until=lambda found: len(found) >= 1,
    )
    assert resolved[0]["data"] == {
        "retry_id": "retry-by-hand-1",
        "failure_key": f"lifecycle:{original.event_id}",
    }
