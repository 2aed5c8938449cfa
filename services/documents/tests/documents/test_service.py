"""Documents against real Kafka and PostgreSQL: one document per booking and type, whatever arrives twice."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from pypdf import PdfReader

from tripflow_cli.testing.apps import eventually, running_app
from tripflow_cli.testing.factories import booking_state_event, new_booking_id
from tripflow_cli.testing.kafka import publish, read_topic
from tripflow_common.events import Topic
from tripflow_documents.app import create_app
from tripflow_documents.settings import DocumentsSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def documents(tripflow_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(DocumentsSettings())) as client:
        yield client


async def test_each_booking_event_five_times_makes_each_document_once(
    documents: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    bid = new_booking_id()
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    paid = booking_state_event(bid, Topic.BOOKING_PAYMENT_CONFIRMED, amount=77_700)
    confirmed = booking_state_event(bid, Topic.BOOKING_SUPPLIER_CONFIRMED, amount=77_700)
    await publish(bootstrap, ns + paid.type, [paid] * 5)
    await publish(bootstrap, ns + confirmed.type, [confirmed] * 5)
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) = 3 FROM documents.documents WHERE booking_id=$1", bid
        ),
        what="three documents",
    )
    await eventually(
        lambda: db.fetchval("SELECT count(*) = 0 FROM documents.outbox WHERE sent_at IS NULL"),
        what="outbox sent",
    )
    generated = await read_topic(
        bootstrap,
        ns + "documents.generated",
        match=lambda e: e.get("booking_id") == bid,
        until=lambda found: False,
        timeout=2,
    )
    types = sorted(d["type"] for e in generated for d in e["data"]["documents"])
    assert types == ["invoice", "itinerary", "voucher"]
    rows = await db.fetch(
        "SELECT id, type, size_bytes, sha256, length(content) AS n FROM documents.documents WHERE booking_id=$1",
        bid,
    )
    for row in rows:
        assert row["size_bytes"] == row["n"] > 500
        assert len(row["sha256"]) == 64


async def test_pdf_download_needs_the_internal_key(
    documents: httpx.AsyncClient, tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    bid = new_booking_id()
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    paid = booking_state_event(bid, Topic.BOOKING_PAYMENT_CONFIRMED, amount=42_000)
    await publish(bootstrap, ns + paid.type, [paid])
    doc_id = await eventually(
        lambda: db.fetchval(
            "SELECT id FROM documents.documents WHERE booking_id=$1 AND type='invoice'", bid
        ),
        what="invoice",
    )
    r = await documents.get(f"/api/internal/documents/{doc_id}/pdf")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = await documents.get(
        f"/api/internal/documents/{doc_id}/pdf", headers={"x-internal-key": "wrong"}
    )
    assert r.status_code == 401
    rotated_key = tripflow_env["TRIPFLOW_INTERNAL_KEYS"].split(",")[1]
    r = await documents.get(
        f"/api/internal/documents/{doc_id}/pdf", headers={"x-internal-key": rotated_key}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert bid in text and "420.00 EUR" in text
    listing = await documents.get(
        "/api/internal/documents",
        params={"booking_id": bid},
        headers={"x-internal-key": rotated_key},
    )
    assert [d["type"] for d in listing.json()] == ["invoice"]
    missing = await documents.get(
        "/api/internal/documents/00000000-0000-0000-0000-000000000000/pdf",
        headers={"x-internal-key": rotated_key},
    )
    assert missing.status_code == 404 and missing.json()["code"] == "document_not_found"
