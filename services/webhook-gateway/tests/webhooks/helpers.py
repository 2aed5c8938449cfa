"""Small factories and probes shared by the gateway's integration and fuzz tests."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tripflow_cli.testing.webhooks import stripe_event_body as stripe_event_body  # re-export

STRIPE = "TRIPFLOW_STRIPE_WEBHOOK_SECRETS"
STANDARD = "TRIPFLOW_STANDARD_WEBHOOK_SECRETS"
SUPPLIER = "TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS"

ROUTES = {
    "auto": "/api/payments/webhook",
    "stripe": "/api/payments/webhook/stripe",
    "standard": "/api/payments/webhook/standard",
    "supplier": "/api/suppliers/webhook",
}


def new_booking_id() -> str:
    return f"BK-{uuid.uuid4().hex[:12]}"


def secret(env: dict[str, str], name: str, index: int = 0) -> str:
    return env[name].split(",")[index]


def stripe_hmac_headers(body: bytes, key: str, timestamp: int | None = None) -> dict[str, str]:
    """The Stripe scheme by hand, for bodies the `stripe` library cannot sign (not UTF-8)."""
    ts = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(key.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "stripe-signature": f"t={ts},v1={signature}"}


async def row_counts(db: asyncpg.Connection) -> tuple[int, int]:
    """(webhook_events rows, outbox rows): a rejected request must change neither."""
    events = await db.fetchval("SELECT count(*) FROM gateway.webhook_events")
    outbox = await db.fetchval("SELECT count(*) FROM gateway.outbox")
    return int(events), int(outbox)


async def metric_samples(
    client: httpx.AsyncClient,
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of GET /metrics, keyed by (sample name, labels)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def metric(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)
