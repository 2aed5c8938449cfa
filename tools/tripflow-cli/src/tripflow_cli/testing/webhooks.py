"""Webhooks signed by the providers' own libraries: independent clients of our verifier."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe
from standardwebhooks import Webhook


def stripe_signed(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )
    return {"content-type": "application/json", "stripe-signature": header}


def standard_signed(
    body: bytes, secret: str, *, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = timestamp if timestamp is not None else int(time.time())
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), body.decode())
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature,
    }


def stripe_payment_intent(
    booking_id: str,
    amount: int,
    currency: str = "eur",
    *,
    event_id: str | None = None,
    event_type: str = "payment_intent.succeeded",
) -> bytes:
    obj: dict[str, Any] = {
        "id": f"pi_{uuid.uuid4().hex[:20]}",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "metadata": {"booking_id": booking_id},
    }
    if event_type == "checkout.session.completed":
        obj = {
            "id": f"cs_{uuid.uuid4().hex[:20]}",
            "object": "checkout.session",
            "amount_total": amount,
            "currency": currency,
            "payment_intent": f"pi_{uuid.uuid4().hex[:20]}",
            "metadata": {"booking_id": booking_id},
        }
    return stripe_event_body(event_type, obj, event_id)


def stripe_event_body(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    """A Stripe event envelope around `obj`, as Stripe posts it."""
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def standard_payment(
    booking_id: str, amount: int, currency: str = "EUR", payment_id: str | None = None
) -> bytes:
    return json.dumps(
        {
            "type": "payment.succeeded",
            "data": {
                "payment_id": payment_id or f"pay_{uuid.uuid4().hex[:12]}",
                "booking_id": booking_id,
                "amount": amount,
                "currency": currency,
            },
        }
    ).encode()


def supplier_confirmation(
    booking_id: str, supplier_ref: str = "SUP-1", supplier_name: str = "Lisbon Travel Partners"
) -> bytes:
    return json.dumps(
        {
            "type": "booking.confirmed",
            "data": {
                "booking_id": booking_id,
                "supplier_ref": supplier_ref,
                "supplier_name": supplier_name,
                "confirmed_at": "2027-01-01T10:00:00Z",
            },
        }
    ).encode()


def first_secret(env: dict[str, str], name: str) -> str:
    return env[name].split(",")[0]
