"""Small factories for the events tests publish, as their real producers would."""

from __future__ import annotations

import uuid
from typing import Any

from tripflow_cli.bookings import booking_created, sample_booking
from tripflow_common.events import Envelope, Topic


def new_booking_id(prefix: str = "BK") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def booking_event(booking_id: str, amount: int = 100_000, currency: str = "EUR") -> Envelope:
    return booking_created(sample_booking(booking_id, amount, currency))


def payment_event(booking_id: str, amount: int = 100_000, currency: str = "EUR") -> Envelope:
    return Envelope.new(
        Topic.PAYMENT_CONFIRMED,
        booking_id=booking_id,
        producer="webhook-gateway",
        data={
            "provider": "stripe",
            "provider_event_id": f"evt_{uuid.uuid4().hex[:12]}",
            "payment_id": f"pi_{uuid.uuid4().hex[:12]}",
            "amount": amount,
            "currency": currency,
            "webhook_event_id": str(uuid.uuid4()),
        },
    )


def supplier_event(booking_id: str, ref: str = "SUP-42") -> Envelope:
    return Envelope.new(
        Topic.SUPPLIER_CONFIRMED,
        booking_id=booking_id,
        producer="webhook-gateway",
        data={
            "supplier_ref": ref,
            "supplier_name": "Lisbon Travel Partners",
            "confirmed_at": "2027-01-01T10:00:00Z",
            "webhook_event_id": str(uuid.uuid4()),
        },
    )


def documents_event(
    booking_id: str, types: tuple[str, ...] = ("invoice", "voucher", "itinerary")
) -> Envelope:
    return Envelope.new(
        Topic.DOCUMENTS_GENERATED,
        booking_id=booking_id,
        producer="documents",
        data={
            "documents": [{"id": str(uuid.uuid4()), "type": t, "sha256": "0" * 64} for t in types]
        },
    )


def snapshot(
    booking_id: str, status: str, amount: int = 100_000, currency: str = "EUR"
) -> dict[str, Any]:
    data = sample_booking(booking_id, amount, currency)
    return {
        **data,
        "status": status,
        "supplier": {
            "name": data["supplier"]["name"],
            "ref": "SUP-42" if status != "payment_confirmed" else None,
        },
        "payment": {
            "provider": "stripe",
            "payment_id": "pi_test_123",
            "amount": amount,
            "currency": currency,
        },
        "documents": [],
    }


def booking_state_event(booking_id: str, topic: Topic, amount: int = 100_000) -> Envelope:
    status = {
        Topic.BOOKING_PAYMENT_CONFIRMED: "payment_confirmed",
        Topic.BOOKING_SUPPLIER_CONFIRMED: "supplier_confirmed",
    }[topic]
    return Envelope.new(
        topic,
        booking_id=booking_id,
        producer="lifecycle",
        data=snapshot(booking_id, status, amount),
    )
