"""`tripflow demo`: bookings in, signed webhooks through the real gateway, progress on screen."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tripflow_cli.bookings import booking_created, publish_events, sample_booking
from tripflow_cli.signing import (
    standard_headers,
    stripe_headers,
    stripe_payment_body,
    supplier_confirmation_body,
)
from tripflow_common.db.engine import create_engine
from tripflow_common.settings import CommonSettings, split_comma_list

console = Console()


def _secret(name: str) -> str:
    import os

    from dotenv import dotenv_values

    value = os.environ.get(name) or dotenv_values(".env").get(name) or ""
    secrets = split_comma_list(value)
    if not secrets:
        raise SystemExit(f"{name} is not set (run `tripflow up` once to write .env)")
    return str(secrets[0])


async def _statuses(engine: AsyncEngine, ids: list[str]) -> list[tuple[str, str, int]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT b.booking_id, b.status, "
                    "(SELECT count(*) FROM documents.documents d WHERE d.booking_id = b.booking_id) "
                    "FROM lifecycle.bookings b WHERE b.booking_id = ANY(:ids) ORDER BY b.booking_id"
                ),
                {"ids": ids},
            )
        ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


async def _watch(
    engine: AsyncEngine, ids: list[str], wanted: set[str], timeout: float, live: Live
) -> bool:
    """Show each booking's progress until every one is in `wanted` (or time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await _statuses(engine, ids)
        table = Table("booking", "status", "documents")
        for booking_id, status, docs in rows:
            table.add_row(booking_id, status, str(docs))
        live.update(table)
        if len(rows) == len(ids) and all(r[1] in wanted for r in rows):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.3)


async def run_demo(settings: CommonSettings, count: int, gateway: str, timeout: float) -> int:
    stripe_secret = _secret("TRIPFLOW_STRIPE_WEBHOOK_SECRETS")
    supplier_secret = _secret("TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS")
    run = uuid.uuid4().hex[:6].upper()
    bookings = [sample_booking(f"BK-DEMO-{run}-{i + 1}") for i in range(count)]
    ids = [b["booking_id"] for b in bookings]
    engine = create_engine(settings, pool_size=1)
    after_payment = {"payment_confirmed", "supplier_confirmed", "fulfilled"}
    try:
        with Live(console=console, refresh_per_second=4) as live:
            live.console.print(f"1. checkout publishes booking.created for {count} bookings")
            await publish_events(
                settings.kafka_bootstrap,
                [booking_created(b) for b in bookings],
                settings.kafka_namespace,
            )
            ok = await _watch(engine, ids, {"pending_payment"} | after_payment, timeout, live)
            async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
                live.console.print(
                    "2. the payment provider sends Stripe-signed payment_intent.succeeded"
                )
                for b in bookings:
                    body = stripe_payment_body(b["booking_id"], b["total_amount"], b["currency"])
                    r = await client.post(
                        "/api/payments/webhook",
                        content=body,
                        headers=stripe_headers(body, stripe_secret),
                    )
                    live.console.print(
                        f"   {b['booking_id']}: {r.status_code} {r.json().get('status')}"
                    )
                ok = ok and await _watch(engine, ids, after_payment, timeout, live)
                live.console.print("3. the supplier confirms (Standard Webhooks)")
                for b in bookings:
                    body = supplier_confirmation_body(b["booking_id"], b["supplier"]["name"])
                    r = await client.post(
                        "/api/suppliers/webhook",
                        content=body,
                        headers=standard_headers(body, supplier_secret),
                    )
                    live.console.print(
                        f"   {b['booking_id']}: {r.status_code} {r.json().get('status')}"
                    )
            live.console.print("4. documents are generated; lifecycle fulfils each booking")
            ok = ok and await _watch(engine, ids, {"fulfilled"}, timeout, live)
    finally:
        await engine.dispose()
    if not ok:
        console.print("[yellow]not every booking reached fulfilled in time; see .tripflow/logs/[/]")
        return 1
    console.print(f"[green]all {count} bookings fulfilled, with invoice, voucher and itinerary[/]")
    return 0
