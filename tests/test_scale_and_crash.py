"""Several instances and hard crashes: consumer groups share partitions, inbox and unique
constraints keep every effect single, offsets are committed only after the effect."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tripflow_cli.testing.apps import ServiceProcesses, eventually
from tripflow_cli.testing.factories import (
    booking_event,
    booking_state_event,
    new_booking_id,
    payment_event,
    supplier_event,
)
from tripflow_cli.testing.kafka import publish
from tripflow_common.events import Topic

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def count(db: asyncpg.Connection, sql: str, *args: object) -> int:
    return int(await db.fetchval(sql, *args))


async def test_two_documents_instances_make_exactly_600_documents_for_200_bookings(
    processes: ServiceProcesses, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    processes.start("documents", instance="-a")
    processes.start("documents", instance="-b")
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    prefix = new_booking_id("BK-SCALE")
    ids = [f"{prefix}-{i:03d}" for i in range(200)]
    paid = [booking_state_event(b, Topic.BOOKING_PAYMENT_CONFIRMED) for b in ids]
    confirmed = [booking_state_event(b, Topic.BOOKING_SUPPLIER_CONFIRMED) for b in ids]
    # Every event twice, as an at-least-once producer may well send it.
    await publish(bootstrap, ns + "booking.payment_confirmed", paid + paid)
    await publish(bootstrap, ns + "booking.supplier_confirmed", confirmed + confirmed)
    like = f"{prefix}-%"
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) >= 600 FROM documents.documents WHERE booking_id LIKE $1", like
        ),
        timeout=120,
        what="600 documents",
    )
    await asyncio.sleep(2)  # anything late would show up as a 601st row or a constraint error
    assert (
        await count(db, "SELECT count(*) FROM documents.documents WHERE booking_id LIKE $1", like)
        == 600
    )
    assert (
        await count(
            db,
            "SELECT count(DISTINCT (booking_id, type)) FROM documents.documents WHERE booking_id LIKE $1",
            like,
        )
        == 600
    )
    # Both instances were members of the group with partitions of their own.
    for proc in processes.running:
        assignments = [
            line for line in proc.log.read_text().splitlines() if "assigned to partitions" in line
        ]
        assert assignments and "TopicPartition" in assignments[-1], proc.log


async def test_killed_consumers_lose_nothing_and_duplicate_nothing(
    processes: ServiceProcesses, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    lifecycle = processes.start("lifecycle")
    documents = processes.start("documents")
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    prefix = new_booking_id("BK-CRASH")
    ids = [f"{prefix}-{i:03d}" for i in range(100)]
    like = f"{prefix}-%"

    await publish(bootstrap, ns + "booking.created", [booking_event(b) for b in ids])
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) = 100 FROM lifecycle.bookings WHERE booking_id LIKE $1", like
        ),
        timeout=60,
        what="100 bookings",
    )
    await publish(bootstrap, ns + "payment.confirmed", [payment_event(b) for b in ids])
    # Kill both consumers while they work through the payments and the invoices.
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) > 5 FROM documents.documents WHERE booking_id LIKE $1", like
        ),
        timeout=60,
        interval=0.05,
        what="some invoices",
    )
    processes.kill(lifecycle)
    processes.kill(documents)
    paid_at_kill = await count(
        db, "SELECT count(*) FROM lifecycle.payments WHERE booking_id LIKE $1", like
    )
    invoices_at_kill = await count(
        db, "SELECT count(*) FROM documents.documents WHERE booking_id LIKE $1", like
    )
    processes.start("lifecycle", instance="-2")
    processes.start("documents", instance="-2")
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) = 100 FROM lifecycle.bookings WHERE booking_id LIKE $1 AND status='payment_confirmed'",
            like,
        ),
        timeout=90,
        what="100 payment_confirmed",
    )
    await publish(bootstrap, ns + "supplier.confirmed", [supplier_event(b) for b in ids])
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) = 100 FROM lifecycle.bookings WHERE booking_id LIKE $1 AND status='fulfilled'",
            like,
        ),
        timeout=120,
        what="100 fulfilled",
    )
    assert invoices_at_kill < 100 or paid_at_kill < 100, "the kill came too late to test anything"
    assert (
        await count(db, "SELECT count(*) FROM lifecycle.payments WHERE booking_id LIKE $1", like)
        == 100
    )
    assert (
        await count(
            db, "SELECT count(*) FROM lifecycle.booking_transitions WHERE booking_id LIKE $1", like
        )
        == 400
    )
    assert (
        await count(db, "SELECT count(*) FROM documents.documents WHERE booking_id LIKE $1", like)
        == 300
    )
