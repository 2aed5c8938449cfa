"""The whole flow on real processes, a real broker and a real database:
booking.created → Stripe-signed webhook → payment.confirmed → booking.payment_confirmed → invoice
→ supplier webhook → voucher and itinerary → booking.fulfilled.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tripflow_cli.bookings import booking_created, sample_booking
from tripflow_cli.testing.apps import ServiceProcesses, eventually
from tripflow_cli.testing.kafka import publish, read_topic
from tripflow_cli.testing.webhooks import (
    first_secret,
    standard_signed,
    stripe_payment_intent,
    stripe_signed,
    supplier_confirmation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def test_webhook_to_invoice_to_fulfilled(
    processes: ServiceProcesses, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    gateway = processes.start("webhook-gateway")
    processes.start("lifecycle")
    processes.start("documents")
    bootstrap, ns = (
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
    )

    booking = sample_booking("BK-E2E-1", amount=123_450, currency="EUR")
    await publish(bootstrap, f"{ns}booking.created", [booking_created(booking)])
    await eventually(
        lambda: db.fetchval("SELECT status FROM lifecycle.bookings WHERE booking_id = 'BK-E2E-1'"),
        what="booking created",
    )

    body = stripe_payment_intent("BK-E2E-1", 123_450, "eur")
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        r = await client.post(
            "/api/payments/webhook",
            content=body,
            headers=stripe_signed(
                body, first_secret(tripflow_env, "TRIPFLOW_STRIPE_WEBHOOK_SECRETS")
            ),
        )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"

    invoice = await eventually(
        lambda: db.fetchrow(
            "SELECT type, size_bytes, content FROM documents.documents "
            "WHERE booking_id = 'BK-E2E-1' AND type = 'invoice'"
        ),
        what="invoice row",
    )
    assert invoice["content"].startswith(b"%PDF")
    assert await db.fetchval(
        "SELECT status FROM lifecycle.bookings WHERE booking_id='BK-E2E-1'"
    ) in ("payment_confirmed",)
    payment = await db.fetchrow(
        "SELECT amount, currency, provider FROM lifecycle.payments WHERE booking_id='BK-E2E-1'"
    )
    assert dict(payment) == {"amount": 123_450, "currency": "EUR", "provider": "stripe"}

    generated = await read_topic(
        bootstrap,
        f"{ns}documents.generated",
        match=lambda e: e.get("booking_id") == "BK-E2E-1",
        until=lambda found: len(found) >= 1,
    )
    assert [d["type"] for d in generated[0]["data"]["documents"]] == ["invoice"]
    assert generated[0]["_key"] == "BK-E2E-1"

    body = supplier_confirmation("BK-E2E-1", supplier_ref="LIS-778")
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        r = await client.post(
            "/api/suppliers/webhook",
            content=body,
            headers=standard_signed(
                body, first_secret(tripflow_env, "TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS")
            ),
        )
    assert r.status_code == 200, r.text
    await eventually(
        lambda: db.fetchval(
            "SELECT status = 'fulfilled' FROM lifecycle.bookings WHERE booking_id='BK-E2E-1'"
        ),
        what="booking fulfilled",
    )
    types = await db.fetch(
        "SELECT type FROM documents.documents WHERE booking_id='BK-E2E-1' ORDER BY type"
    )
    assert [t["type"] for t in types] == ["invoice", "itinerary", "voucher"]
    transitions = await db.fetch(
        "SELECT from_status, to_status FROM lifecycle.booking_transitions WHERE booking_id='BK-E2E-1' ORDER BY id"
    )
    assert [(t["from_status"], t["to_status"]) for t in transitions] == [
        (None, "pending_payment"),
        ("pending_payment", "payment_confirmed"),
        ("payment_confirmed", "supplier_confirmed"),
        ("supplier_confirmed", "fulfilled"),
    ]
    fulfilled = await read_topic(
        bootstrap,
        f"{ns}booking.fulfilled",
        match=lambda e: e.get("booking_id") == "BK-E2E-1",
        until=lambda found: len(found) >= 1,
    )
    assert fulfilled[0]["data"]["documents"] == ["invoice", "itinerary", "voucher"]
