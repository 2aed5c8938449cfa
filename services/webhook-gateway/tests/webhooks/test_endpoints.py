"""The gateway over HTTP, on real PostgreSQL and real Kafka.

Requests are signed with the providers' own libraries (`stripe`, `standardwebhooks`); the tests
check what an operator would: the answer and its `code`, the rows in gateway.webhook_events and
gateway.outbox, the event on `<namespace>payment.confirmed`, heartbeats, logs and /metrics.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import stripe

from tripflow_cli.testing.apps import eventually, running_app
from tripflow_cli.testing.kafka import read_topic
from tripflow_cli.testing.webhooks import (
    standard_payment,
    standard_signed,
    stripe_payment_intent,
    stripe_signed,
    supplier_confirmation,
)
from tripflow_common.db.engine import create_engine, create_session_factory
from tripflow_common.logging import JsonFormatter
from tripflow_common.ops import OpsRepository, record_heartbeat
from tripflow_gateway.app import create_app
from tripflow_gateway.settings import GatewaySettings

from .helpers import (
    ROUTES,
    STANDARD,
    STRIPE,
    SUPPLIER,
    metric,
    metric_samples,
    new_booking_id,
    row_counts,
    secret,
    stripe_event_body,
)

pytestmark = pytest.mark.integration

MAX_BODY = 256 * 1024


async def webhook_row(
    db: asyncpg.Connection, provider: str, event_id: str
) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT id, provider, event_id, event_type, booking_id, outcome, published_event_id "
        "FROM gateway.webhook_events WHERE provider = $1 AND event_id = $2",
        provider,
        event_id,
    )


async def outbox_rows(db: asyncpg.Connection, booking_id: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM gateway.outbox WHERE key = $1", booking_id))


async def events_for(
    env: dict[str, str], topic: str, booking_id: str, *, at_least: int = 1, timeout: float = 30.0
) -> list[dict[str, Any]]:
    return await read_topic(
        env["TRIPFLOW_KAFKA_BOOTSTRAP"],
        env["TRIPFLOW_KAFKA_NAMESPACE"] + topic,
        match=lambda e: e.get("booking_id") == booking_id,
        until=lambda found: len(found) >= at_least,
        timeout=timeout,
    )


def assert_rejected(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message"]


# -- 1. signatures -------------------------------------------------------------------------------
async def test_stripe_library_signature_is_accepted(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    booking = new_booking_id()
    body = stripe_payment_intent(booking, 12_345, "eur")
    r = await gateway.post(
        ROUTES["auto"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE))
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert await webhook_row(db, "stripe", json.loads(body)["id"]) is not None


@pytest.mark.parametrize("tamper", ["body_byte", "timestamp", "other_secret"])
async def test_tampered_stripe_webhook_is_rejected(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection, tamper: str
) -> None:
    booking = new_booking_id()
    body = stripe_payment_intent(booking, 5_000, "eur")
    key = (
        "whsec_other_" + secrets.token_hex(8)
        if tamper == "other_secret"
        else secret(tripflow_env, STRIPE)
    )
    headers = stripe_signed(body, key)
    if tamper == "body_byte":
        at = body.index(booking.encode()) + len(booking) - 1
        body = body[:at] + (b"x" if body[at : at + 1] != b"x" else b"y") + body[at + 1 :]
    elif tamper == "timestamp":
        ts, rest = headers["stripe-signature"].removeprefix("t=").split(",", 1)
        headers["stripe-signature"] = f"t={int(ts) - 1},{rest}"
    before = await row_counts(db)
    r = await gateway.post(ROUTES["stripe"], content=body, headers=headers)
    assert_rejected(r, 401, "invalid_signature")
    assert await row_counts(db) == before


async def test_stripe_header_with_v0_and_several_v1_passes_when_one_matches(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str]
) -> None:
    body = stripe_payment_intent(new_booking_id(), 5_000, "eur")
    ts = int(time.time())
    good = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret(tripflow_env, STRIPE), timestamp=ts
    ).split("v1=", 1)[1]
    header = f"t={ts},v0={secrets.token_hex(32)},v1={secrets.token_hex(32)},v1={good},v1={secrets.token_hex(32)}"
    r = await gateway.post(
        ROUTES["stripe"],
        content=body,
        headers={"content-type": "application/json", "stripe-signature": header},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"


async def test_stripe_rotation_secret_verifies(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str]
) -> None:
    body = stripe_payment_intent(new_booking_id(), 5_000, "eur")
    r = await gateway.post(
        ROUTES["stripe"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE, 1))
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"


async def test_standard_library_signature_is_accepted(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    body = standard_payment(new_booking_id(), 7_000, "EUR")
    headers = standard_signed(body, secret(tripflow_env, STANDARD))
    r = await gateway.post(ROUTES["standard"], content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["event_id"]) == ("accepted", headers["webhook-id"])
    assert await webhook_row(db, "standard", headers["webhook-id"]) is not None


@pytest.mark.parametrize("tamper", ["id", "timestamp", "body", "secret"])
async def test_tampered_standard_webhook_is_rejected(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection, tamper: str
) -> None:
    booking = new_booking_id()
    body = standard_payment(booking, 7_000, "EUR")
    key = (
        "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        if tamper == "secret"
        else secret(tripflow_env, STANDARD)
    )
    headers = standard_signed(body, key)
    if tamper == "id":
        headers["webhook-id"] = f"msg_{uuid.uuid4().hex}"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    elif tamper == "body":
        body = body.replace(b"7000", b"7001")
    before = await row_counts(db)
    r = await gateway.post(ROUTES["standard"], content=body, headers=headers)
    assert_rejected(r, 401, "invalid_signature")
    assert await row_counts(db) == before


async def test_standard_rotation_secret_verifies(tripflow_env: dict[str, str]) -> None:
    """Two Standard Webhooks secrets configured at once: the old one still verifies."""
    new = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    old = secret(tripflow_env, STANDARD)
    app = create_app(GatewaySettings(standard_webhook_secrets=[new, old]))
    async with running_app(app) as client:
        for key in (new, old):
            body = standard_payment(new_booking_id(), 1_000, "EUR")
            r = await client.post(
                ROUTES["standard"], content=body, headers=standard_signed(body, key)
            )
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "accepted"


@pytest.mark.parametrize("provider", ["stripe", "standard"])
@pytest.mark.parametrize(("offset", "status"), [(-301, 401), (301, 401), (-299, 200), (299, 200)])
async def test_timestamp_tolerance(
    gateway: httpx.AsyncClient,
    tripflow_env: dict[str, str],
    db: asyncpg.Connection,
    provider: str,
    offset: int,
    status: int,
) -> None:
    booking = new_booking_id()
    ts = int(time.time()) + offset
    if provider == "stripe":
        body = stripe_payment_intent(booking, 4_200, "eur")
        headers = stripe_signed(body, secret(tripflow_env, STRIPE), timestamp=ts)
    else:
        body = standard_payment(booking, 4_200, "EUR")
        headers = standard_signed(body, secret(tripflow_env, STANDARD), timestamp=ts)
    before = await row_counts(db)
    r = await gateway.post(ROUTES[provider], content=body, headers=headers)
    if status == 401:
        assert_rejected(r, 401, "timestamp_out_of_tolerance")
        assert await row_counts(db) == before
    else:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted"


# -- 2. what each webhook produces ---------------------------------------------------------------
@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "checkout.session.completed"])
async def test_stripe_payment_produces_payment_confirmed(
    gateway: httpx.AsyncClient,
    tripflow_env: dict[str, str],
    db: asyncpg.Connection,
    event_type: str,
) -> None:
    booking = new_booking_id()
    body = stripe_payment_intent(booking, 123_450, "eur", event_type=event_type)
    payload = json.loads(body)
    r = await gateway.post(
        ROUTES["auto"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE))
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["status"], answer["event_id"]) == ("accepted", payload["id"])

    row = await webhook_row(db, "stripe", payload["id"])
    assert row is not None
    assert (row["event_type"], row["booking_id"], row["outcome"]) == (
        event_type,
        booking,
        "accepted",
    )
    assert str(row["published_event_id"]) == answer["published_event_id"]
    assert await outbox_rows(db, booking) == 1

    [event] = await events_for(tripflow_env, "payment.confirmed", booking)
    obj = payload["data"]["object"]
    payment_id = obj["payment_intent"] if event_type == "checkout.session.completed" else obj["id"]
    assert event["type"] == "payment.confirmed"
    assert event["_key"] == booking
    assert event["event_id"] == answer["published_event_id"]
    assert event["producer"] == "webhook-gateway"
    assert event["data"] == {
        "provider": "stripe",
        "provider_event_id": payload["id"],
        "payment_id": payment_id,
        "amount": 123_450,
        "currency": "EUR",
        "webhook_event_id": str(row["id"]),
    }


@pytest.mark.parametrize("route", ["auto", "standard"])
async def test_standard_payment_produces_payment_confirmed(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection, route: str
) -> None:
    booking = new_booking_id()
    body = standard_payment(booking, 99_900, "usd", payment_id="pay_123")
    headers = standard_signed(body, secret(tripflow_env, STANDARD))
    r = await gateway.post(ROUTES[route], content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"

    row = await webhook_row(db, "standard", headers["webhook-id"])
    assert row is not None and row["outcome"] == "accepted" and row["booking_id"] == booking
    [event] = await events_for(tripflow_env, "payment.confirmed", booking)
    assert event["data"] == {
        "provider": "standard",
        "provider_event_id": headers["webhook-id"],
        "payment_id": "pay_123",
        "amount": 99_900,
        "currency": "USD",
        "webhook_event_id": str(row["id"]),
    }


async def test_supplier_confirmation_produces_supplier_confirmed(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    booking = new_booking_id()
    body = supplier_confirmation(booking, supplier_ref="LIS-778", supplier_name="Lisbon Partners")
    headers = standard_signed(body, secret(tripflow_env, SUPPLIER))
    r = await gateway.post(ROUTES["supplier"], content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"

    row = await webhook_row(db, "supplier", headers["webhook-id"])
    assert row is not None and row["outcome"] == "accepted"
    [event] = await events_for(tripflow_env, "supplier.confirmed", booking)
    assert event["type"] == "supplier.confirmed" and event["_key"] == booking
    assert event["data"] == {
        "supplier_ref": "LIS-778",
        "supplier_name": "Lisbon Partners",
        "confirmed_at": "2027-01-01T10:00:00Z",
        "webhook_event_id": str(row["id"]),
    }


def _ignored_stripe(env: dict[str, str]) -> tuple[str, str, bytes, dict[str, str]]:
    body = stripe_event_body("customer.created", {"id": "cus_1", "object": "customer"})
    return "stripe", json.loads(body)["id"], body, stripe_signed(body, secret(env, STRIPE))


def _ignored_standard(env: dict[str, str]) -> tuple[str, str, bytes, dict[str, str]]:
    body = json.dumps({"type": "payment.failed", "data": {"booking_id": new_booking_id()}}).encode()
    headers = standard_signed(body, secret(env, STANDARD))
    return "standard", headers["webhook-id"], body, headers


def _ignored_supplier(env: dict[str, str]) -> tuple[str, str, bytes, dict[str, str]]:
    body = json.dumps(
        {"type": "booking.cancelled", "data": {"booking_id": new_booking_id()}}
    ).encode()
    headers = standard_signed(body, secret(env, SUPPLIER))
    return "supplier", headers["webhook-id"], body, headers


@pytest.mark.parametrize(
    "build",
    [_ignored_stripe, _ignored_standard, _ignored_supplier],
    ids=["stripe", "standard", "supplier"],
)
async def test_other_event_types_are_recorded_and_ignored(
    gateway: httpx.AsyncClient,
    tripflow_env: dict[str, str],
    db: asyncpg.Connection,
    build: Callable[[dict[str, str]], tuple[str, str, bytes, dict[str, str]]],
) -> None:
    provider, event_id, body, headers = build(tripflow_env)
    _, outbox_before = await row_counts(db)
    r = await gateway.post(ROUTES[provider], content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ignored", "event_id": event_id}
    row = await webhook_row(db, provider, event_id)
    assert row is not None
    assert (row["outcome"], row["published_event_id"]) == ("ignored", None)
    assert (await row_counts(db))[1] == outbox_before


@pytest.mark.parametrize("segment", ["paypal", "supplier", "STRIPE", "standard-webhooks"])
async def test_unknown_payment_provider_is_404(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection, segment: str
) -> None:
    """`supplier` too: a supplier-signed confirmation must not slip in through the payments route."""
    body = supplier_confirmation(new_booking_id())
    headers = standard_signed(body, secret(tripflow_env, SUPPLIER))
    before = await row_counts(db)
    r = await gateway.post(f"/api/payments/webhook/{segment}", content=body, headers=headers)
    assert_rejected(r, 404, "unknown_provider")
    assert await row_counts(db) == before


# -- 3. dedupe -----------------------------------------------------------------------------------
async def test_same_stripe_event_twice_is_a_duplicate(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    booking = new_booking_id()
    body = stripe_payment_intent(booking, 5_000, "eur")
    event_id = json.loads(body)["id"]
    headers = stripe_signed(body, secret(tripflow_env, STRIPE))
    first = await gateway.post(ROUTES["auto"], content=body, headers=headers)
    second = await gateway.post(ROUTES["auto"], content=body, headers=headers)
    # A redelivery, freshly signed, on the provider's own route: still the same event.
    third = await gateway.post(
        ROUTES["stripe"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE, 1))
    )
    assert first.json()["status"] == "accepted"
    for again in (second, third):
        assert again.status_code == 200, again.text
        assert again.json() == {"status": "duplicate", "event_id": event_id}
    rows = await db.fetchval(
        "SELECT count(*) FROM gateway.webhook_events WHERE provider = 'stripe' AND event_id = $1",
        event_id,
    )
    assert rows == 1
    assert await outbox_rows(db, booking) == 1


async def test_same_standard_message_id_is_a_duplicate(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    booking = new_booking_id()
    body = standard_payment(booking, 5_000, "EUR")
    first = standard_signed(body, secret(tripflow_env, STANDARD))
    retry = standard_signed(
        body,
        secret(tripflow_env, STANDARD),
        msg_id=first["webhook-id"],
        timestamp=int(time.time()) + 5,
    )
    assert (await gateway.post(ROUTES["standard"], content=body, headers=first)).json()[
        "status"
    ] == "accepted"
    r = await gateway.post(ROUTES["standard"], content=body, headers=retry)
    assert r.json() == {"status": "duplicate", "event_id": first["webhook-id"]}
    assert await outbox_rows(db, booking) == 1


async def test_parallel_identical_deliveries_publish_one_event(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    booking = new_booking_id()
    body = stripe_payment_intent(booking, 31_000, "eur")
    headers = stripe_signed(body, secret(tripflow_env, STRIPE))
    responses = await asyncio.gather(
        *(gateway.post(ROUTES["stripe"], content=body, headers=headers) for _ in range(20))
    )
    assert {r.status_code for r in responses} == {200}
    assert Counter(r.json()["status"] for r in responses) == {"accepted": 1, "duplicate": 19}
    assert (
        await db.fetchval(
            "SELECT count(*) FROM gateway.webhook_events WHERE booking_id = $1", booking
        )
        == 1
    )
    assert await outbox_rows(db, booking) == 1

    await eventually(
        lambda: db.fetchval(
            "SELECT bool_and(sent_at IS NOT NULL) FROM gateway.outbox WHERE key = $1", booking
        ),
        what="outbox row sent",
    )
    # The row is sent (Kafka acknowledged it); read long enough that a second copy would show.
    events = await events_for(tripflow_env, "payment.confirmed", booking, at_least=2, timeout=5)
    assert len(events) == 1


# -- 4. bad input --------------------------------------------------------------------------------
Built = tuple[str, dict[str, str], Any]


@dataclass(frozen=True)
class BadRequest:
    name: str
    build: Callable[[dict[str, str], str], Built]
    status: int
    code: str


def _stripe(body: bytes, route: str = "stripe") -> Callable[[dict[str, str], str], Built]:
    return lambda env, _: (ROUTES[route], stripe_signed(body, secret(env, STRIPE)), body)


def _stripe_payment_without(field: str) -> Callable[[dict[str, str], str], Built]:
    def build(env: dict[str, str], booking: str) -> Built:
        obj: dict[str, Any] = {
            "id": "pi_1",
            "amount": 1000,
            "amount_received": 1000,
            "currency": "eur",
            "metadata": {"booking_id": booking},
        }
        if field == "booking_id":
            obj["metadata"] = {"note": "no booking"}
        elif field == "amount":
            del obj["amount"], obj["amount_received"]
        else:
            del obj[field]
        body = stripe_event_body("payment_intent.succeeded", obj)
        return ROUTES["stripe"], stripe_signed(body, secret(env, STRIPE)), body

    return build


def _standard_without(
    field: str, route: str = "standard"
) -> Callable[[dict[str, str], str], Built]:
    def build(env: dict[str, str], booking: str) -> Built:
        if route == "supplier":
            payload = json.loads(supplier_confirmation(booking))
            name = SUPPLIER
        else:
            payload = json.loads(standard_payment(booking, 1000, "EUR"))
            name = STANDARD
        payload["data"].pop(field)
        body = json.dumps(payload).encode()
        return ROUTES[route], standard_signed(body, secret(env, name)), body

    return build


def _without_header(header: str, route: str) -> Callable[[dict[str, str], str], Built]:
    def build(env: dict[str, str], booking: str) -> Built:
        body = standard_payment(booking, 1000, "EUR")
        headers = standard_signed(body, secret(env, SUPPLIER if route == "supplier" else STANDARD))
        headers.pop(header)
        return ROUTES[route], headers, body

    return build


def _oversized(*, streamed: bool) -> Callable[[dict[str, str], str], Built]:
    def build(env: dict[str, str], booking: str) -> Built:
        prefix = json.dumps({"id": "evt_big", "type": "x", "booking": booking, "pad": ""})[
            :-2
        ].encode()
        body = prefix + b"a" * (MAX_BODY + 1 - len(prefix) - 2) + b'"}'
        assert len(body) == MAX_BODY + 1
        headers = stripe_signed(body, secret(env, STRIPE))
        if not streamed:
            return ROUTES["stripe"], headers, body

        async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to trust
            for i in range(0, len(body), 16 * 1024):
                yield body[i : i + 16 * 1024]

        return ROUTES["stripe"], headers, chunks()

    return build


def _content_type(value: str | None) -> Callable[[dict[str, str], str], Built]:
    def build(env: dict[str, str], booking: str) -> Built:
        body = stripe_payment_intent(booking, 1000)
        headers = stripe_signed(body, secret(env, STRIPE))
        if value is None:
            headers.pop("content-type")
        else:
            headers["content-type"] = value
        return ROUTES["auto"], headers, body

    return build


def _standard_bad_signature(env: dict[str, str], booking: str) -> Built:
    body = standard_payment(booking, 1000, "EUR")
    headers = standard_signed(body, secret(env, STANDARD))
    headers["webhook-signature"] = "v1," + base64.b64encode(secrets.token_bytes(32)).decode()
    return ROUTES["standard"], headers, body


BAD_REQUESTS = [
    BadRequest("stripe_not_json", _stripe(b"this is { not json"), 400, "malformed_json"),
    BadRequest("stripe_json_array", _stripe(b'[{"id": "evt_1"}]'), 400, "malformed_json"),
    BadRequest(
        "stripe_nan", _stripe(b'{"id": "evt_nan", "type": "x", "n": NaN}'), 400, "malformed_json"
    ),
    BadRequest("stripe_nul", _stripe(b'{"id": "evt_\\u0000", "type": "x"}'), 400, "malformed_json"),
    BadRequest(
        "supplier_not_json",
        lambda env, _: (
            ROUTES["supplier"],
            standard_signed(b"<xml/>", secret(env, SUPPLIER)),
            b"<xml/>",
        ),
        400,
        "malformed_json",
    ),
    BadRequest(
        "no_signature_headers",
        lambda env, b: (
            ROUTES["auto"],
            {"content-type": "application/json"},
            standard_payment(b, 1),
        ),
        400,
        "missing_headers",
    ),
    BadRequest(
        "stripe_route_without_stripe_signature",
        lambda env, b: (
            ROUTES["stripe"],
            {"content-type": "application/json"},
            stripe_payment_intent(b, 1),
        ),
        400,
        "missing_headers",
    ),
    BadRequest(
        "standard_without_timestamp",
        _without_header("webhook-timestamp", "standard"),
        400,
        "missing_headers",
    ),
    BadRequest(
        "standard_without_id", _without_header("webhook-id", "auto"), 400, "missing_headers"
    ),
    BadRequest(
        "supplier_without_signature",
        _without_header("webhook-signature", "supplier"),
        400,
        "missing_headers",
    ),
    BadRequest(
        "stripe_garbage_signature",
        lambda env, b: (
            ROUTES["auto"],
            {"content-type": "application/json", "stripe-signature": "t=abc"},
            stripe_payment_intent(b, 1),
        ),
        401,
        "invalid_signature",
    ),
    BadRequest("standard_wrong_signature", _standard_bad_signature, 401, "invalid_signature"),
    BadRequest("body_over_256_kib", _oversized(streamed=False), 413, "payload_too_large"),
    BadRequest("streamed_body_over_256_kib", _oversized(streamed=True), 413, "payload_too_large"),
    BadRequest("text_plain", _content_type("text/plain"), 415, "unsupported_media_type"),
    BadRequest(
        "form", _content_type("application/x-www-form-urlencoded"), 415, "unsupported_media_type"
    ),
    BadRequest("json_lookalike", _content_type("application/jsonp"), 415, "unsupported_media_type"),
    BadRequest("no_content_type", _content_type(None), 415, "unsupported_media_type"),
    BadRequest(
        "stripe_without_booking_id", _stripe_payment_without("booking_id"), 422, "invalid_event"
    ),
    BadRequest("stripe_without_amount", _stripe_payment_without("amount"), 422, "invalid_event"),
    BadRequest(
        "stripe_without_currency", _stripe_payment_without("currency"), 422, "invalid_event"
    ),
    BadRequest(
        "standard_without_booking_id", _standard_without("booking_id"), 422, "invalid_event"
    ),
    BadRequest("standard_without_amount", _standard_without("amount"), 422, "invalid_event"),
    BadRequest("standard_without_currency", _standard_without("currency"), 422, "invalid_event"),
    BadRequest(
        "supplier_without_booking_id",
        _standard_without("booking_id", "supplier"),
        422,
        "invalid_event",
    ),
    BadRequest(
        "supplier_without_ref", _standard_without("supplier_ref", "supplier"), 422, "invalid_event"
    ),
    BadRequest(
        "stripe_amount_as_string",
        _stripe(
            stripe_payment_intent("BK-x", 1000)
            .replace(b'"amount": 1000', b'"amount": "1000"')
            .replace(b'"amount_received": 1000', b'"amount_received": "1000"')
        ),
        422,
        "invalid_event",
    ),
    BadRequest(
        "stripe_event_id_too_long",
        _stripe(json.dumps({"id": "evt_" + "x" * 300, "type": "x"}).encode()),
        422,
        "invalid_event",
    ),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c.name for c in BAD_REQUESTS])
async def test_bad_input_is_rejected_and_writes_nothing(
    gateway: httpx.AsyncClient,
    tripflow_env: dict[str, str],
    db: asyncpg.Connection,
    case: BadRequest,
) -> None:
    booking = new_booking_id()
    path, headers, content = case.build(tripflow_env, booking)
    before = await row_counts(db)
    r = await gateway.post(path, content=content, headers=headers)
    assert_rejected(r, case.status, case.code)
    assert r.headers["x-request-id"]
    assert await row_counts(db) == before
    assert (
        await db.fetchval(
            "SELECT count(*) FROM gateway.webhook_events WHERE booking_id = $1", booking
        )
        == 0
    )


async def test_body_of_exactly_256_kib_is_accepted(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str]
) -> None:
    prefix = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "customer.updated", "pad": ""})[
        :-2
    ]
    body = prefix.encode() + b"a" * (MAX_BODY - len(prefix) - 2) + b'"}'
    assert len(body) == MAX_BODY
    r = await gateway.post(
        ROUTES["stripe"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE))
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ignored"


# -- 5. heartbeats -------------------------------------------------------------------------------
def unthrottled_gateway() -> Any:
    return create_app(GatewaySettings(webhook_heartbeat_min_interval_seconds=0))


async def test_webhooks_write_their_heartbeats(
    tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    async with running_app(unthrottled_gateway()) as client:
        started = await db.fetchval("SELECT now()")
        body = stripe_payment_intent(new_booking_id(), 1_000)
        r = await client.post(
            ROUTES["auto"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE))
        )
        assert r.status_code == 200, r.text
        body = supplier_confirmation(new_booking_id())
        r = await client.post(
            ROUTES["supplier"],
            content=body,
            headers=standard_signed(body, secret(tripflow_env, SUPPLIER)),
        )
        assert r.status_code == 200, r.text
        for name in ("payment_webhook", "supplier_webhook"):
            row = await eventually(
                lambda name=name: db.fetchrow(
                    "SELECT status, threshold_seconds FROM ops.system_heartbeats "
                    "WHERE name = $1 AND last_seen_at >= $2",
                    name,
                    started,
                ),
                what=f"heartbeat {name}",
            )
            assert row["status"] == "ok" and row["threshold_seconds"] > 0


async def _failing_write(*_: Any, **__: Any) -> None:
    raise RuntimeError("ops.system_heartbeats is unavailable")


async def test_webhook_succeeds_when_its_heartbeat_cannot_be_written(
    tripflow_env: dict[str, str], db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(unthrottled_gateway()) as client:
        started = await db.fetchval("SELECT now()")
        monkeypatch.setattr(OpsRepository, "write_heartbeat", _failing_write)
        booking = new_booking_id()
        body = stripe_payment_intent(booking, 1_000)
        r = await client.post(
            ROUTES["auto"], content=body, headers=stripe_signed(body, secret(tripflow_env, STRIPE))
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted"
        assert await outbox_rows(db, booking) == 1
        fallback = await eventually(
            lambda: db.fetchrow(
                "SELECT level, message, context FROM ops.system_logs "
                "WHERE source = 'payment_webhook' AND created_at >= $1",
                started,
            ),
            what="heartbeat fallback log",
        )
        assert fallback["message"] == "heartbeat fallback"
        assert json.loads(fallback["context"])["heartbeat"] == "payment_webhook"


async def test_record_heartbeat_falls_back_to_system_logs(
    gateway: httpx.AsyncClient,
    tripflow_env: dict[str, str],
    db: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_engine(GatewaySettings())
    factory = create_session_factory(engine)
    name = f"test_heartbeat_{uuid.uuid4().hex[:8]}"
    try:
        monkeypatch.setattr(OpsRepository, "write_heartbeat", _failing_write)
        await record_heartbeat(factory, name, threshold_seconds=60, details={"where": "test"})
        row = await db.fetchrow(
            "SELECT level, message, context FROM ops.system_logs WHERE source = $1", name
        )
        assert row is not None
        assert (row["level"], row["message"]) == ("warning", "heartbeat fallback")
        assert json.loads(row["context"]) == {"heartbeat": name, "where": "test"}
        assert (
            await db.fetchval("SELECT count(*) FROM ops.system_heartbeats WHERE name = $1", name)
            == 0
        )

        # Nothing can be written at all: still no exception for the caller.
        monkeypatch.setattr(OpsRepository, "write_log", _failing_write)
        await record_heartbeat(factory, name, threshold_seconds=60)
    finally:
        await engine.dispose()


# -- 6. logs -------------------------------------------------------------------------------------
async def test_logs_never_carry_body_signature_or_secret(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for name in ("tripflow_gateway", "tripflow_common"):
        caplog.set_level(logging.DEBUG, logger=name)
    marker = f"BODY-MARKER-{uuid.uuid4().hex}"
    booking = new_booking_id()
    request_id = f"req-{uuid.uuid4().hex}"
    sent_signatures: list[str] = []

    stripe_body = stripe_event_body(
        "payment_intent.succeeded",
        {
            "id": "pi_log",
            "amount": 1000,
            "currency": "eur",
            "description": marker,
            "metadata": {"booking_id": booking, "note": marker},
        },
    )
    stripe_headers = stripe_signed(stripe_body, secret(tripflow_env, STRIPE)) | {
        "x-request-id": request_id
    }
    forged = stripe_signed(stripe_body, "whsec_forged_" + secrets.token_hex(8))
    invalid_body = stripe_event_body(
        "payment_intent.succeeded", {"id": "pi_x", "description": marker}
    )
    invalid = stripe_signed(invalid_body, secret(tripflow_env, STRIPE))
    standard_body = standard_payment(booking + "-" + marker, 1000)
    standard = standard_signed(standard_body, secret(tripflow_env, STANDARD))
    not_json = marker.encode()
    supplier = standard_signed(not_json, secret(tripflow_env, SUPPLIER))
    sends = [
        (ROUTES["auto"], stripe_headers, stripe_body, 200),
        (ROUTES["stripe"], forged, stripe_body, 401),
        (ROUTES["stripe"], invalid, invalid_body, 422),
        (ROUTES["standard"], standard, standard_body, 200),
        (ROUTES["supplier"], supplier, not_json, 400),
    ]
    for path, headers, body, status in sends:
        r = await gateway.post(path, content=body, headers=headers)
        assert r.status_code == status, r.text
        sent_signatures.append(headers.get("stripe-signature") or headers["webhook-signature"])

    formatter = JsonFormatter("webhook-gateway")
    logged = "\n".join(
        f"{record.getMessage()} {vars(record)!r} {formatter.format(record)}"
        for record in caplog.records
    )
    forbidden = [marker, *sent_signatures]
    for name in (STRIPE, STANDARD, SUPPLIER):
        for value in tripflow_env[name].split(","):
            forbidden += [value, value.removeprefix("whsec_")]
    forbidden += [s.split("v1=")[-1] for s in sent_signatures if "v1=" in s]
    forbidden += [s.split(",")[-1] for s in sent_signatures if s.startswith("v1,")]
    leaked = [value[:12] + "…" for value in forbidden if value in logged]
    assert not leaked, f"logs carry sensitive values: {leaked}"

    # What the logs should carry: request id, provider, event id and outcome.
    received = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert received, "no log line for the accepted webhook"
    assert received[0].__dict__["provider"] == "stripe"
    assert received[0].__dict__["event_id"] == json.loads(stripe_body)["id"]
    assert received[0].__dict__["outcome"] == "accepted"
    rejected = [r for r in caplog.records if getattr(r, "outcome", None) == "invalid_signature"]
    assert rejected and rejected[0].__dict__["provider"] == "stripe"


# -- 7. metrics ----------------------------------------------------------------------------------
async def test_metrics_count_every_outcome(
    gateway: httpx.AsyncClient, tripflow_env: dict[str, str]
) -> None:
    before = await metric_samples(gateway)
    body = stripe_payment_intent(new_booking_id(), 2_000)
    headers = stripe_signed(body, secret(tripflow_env, STRIPE))
    ignored = stripe_event_body("customer.created", {"id": "cus_1"})
    answers = [
        await gateway.post(ROUTES["auto"], content=body, headers=headers),
        await gateway.post(ROUTES["auto"], content=body, headers=headers),
        await gateway.post(
            ROUTES["stripe"],
            content=ignored,
            headers=stripe_signed(ignored, secret(tripflow_env, STRIPE)),
        ),
        await gateway.post(
            ROUTES["stripe"],
            content=body,
            headers=stripe_signed(body, "whsec_wrong_" + secrets.token_hex(8)),
        ),
        await gateway.post(ROUTES["auto"], content=body, headers={"content-type": "text/plain"}),
        await gateway.post("/api/payments/webhook/paypal", content=body, headers=headers),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 415, 404]
    after = await metric_samples(gateway)

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("tripflow_webhooks_received_total", provider="stripe") == 4
    for outcome in ("accepted", "duplicate", "ignored"):
        assert delta("tripflow_webhooks_total", provider="stripe", outcome=outcome) == 1, outcome
    assert (
        delta("tripflow_webhooks_rejected_total", provider="stripe", reason="invalid_signature")
        == 1
    )
    assert (
        delta("tripflow_webhooks_rejected_total", provider="auto", reason="unsupported_media_type")
        == 1
    )
    assert (
        delta("tripflow_webhooks_rejected_total", provider="unknown", reason="unknown_provider")
        == 1
    )
    assert not any(dict(labels).get("provider") == "paypal" for (_, labels) in after), (
        "a path segment became a metric label"
    )

    # The relay reports its lag, and it drains to zero once everything is published.
    async def lag_drained() -> bool:
        samples = await metric_samples(gateway)
        key = ("tripflow_outbox_lag_seconds", frozenset({("schema", "gateway")}))
        return key in samples and samples[key] == 0.0

    await eventually(
        lag_drained, timeout=20, what="tripflow_outbox_lag_seconds{schema=gateway} == 0"
    )


async def test_database_down_answers_503_so_the_provider_retries(
    tripflow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tripflow_cli.testing.apps import free_port

    monkeypatch.setenv("TRIPFLOW_DATABASE_URL", f"postgresql://u:p@127.0.0.1:{free_port()}/none")
    app = create_app(GatewaySettings())
    body = stripe_payment_intent(new_booking_id(), 1000)
    headers = stripe_signed(body, secret(tripflow_env, STRIPE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post("/api/payments/webhook", content=body, headers=headers)
    assert r.status_code == 503
    assert r.json()["code"] == "dependency_unavailable"
