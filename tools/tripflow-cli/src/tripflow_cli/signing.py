"""Client-side webhook signing for the demo and benchmarks (tests sign with the providers' libraries)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def stripe_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    ts = timestamp or int(time.time())
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "stripe-signature": f"t={ts},v1={sig}"}


def standard_headers(
    body: bytes, secret: str, message_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    ts = timestamp or int(time.time())
    msg_id = message_id or f"msg_{uuid.uuid4().hex}"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = base64.b64encode(
        hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,{sig}",
    }


def stripe_payment_body(
    booking_id: str, amount: int, currency: str, event_id: str | None = None
) -> bytes:
    event: dict[str, Any] = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": f"pi_{uuid.uuid4().hex[:24]}",
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": currency.lower(),
                "metadata": {"booking_id": booking_id},
            }
        },
    }
    return json.dumps(event).encode()


def supplier_confirmation_body(
    booking_id: str, supplier_name: str, supplier_ref: str | None = None
) -> bytes:
    return json.dumps(
        {
            "type": "booking.confirmed",
            "data": {
                "booking_id": booking_id,
                "supplier_ref": supplier_ref or f"SUP-{uuid.uuid4().hex[:8].upper()}",
                "supplier_name": supplier_name,
                "confirmed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        }
    ).encode()
