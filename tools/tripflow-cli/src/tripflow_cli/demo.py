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


async def run_demo(settings: CommonSettings, count: int, gateway: str, timeout: float) -> int:
    stripe_secret = _secret("TRIPFLOW_STRIPE_WEBHOOK_SECRETS")
    supplier_secret = _secret("TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS")
    run = uuid.uuid4().hex[:6].upper()
    bookings = [sample_booking(f"BK-DEMO-{run}-{i + 1}") for i in range(count)]
    await publish_events(settings.kafka_bootstrap, [booking_created(b) for b in bookings])
    console.print(f"published {count} bookings; sending signed webhooks to {gateway}")
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        await asyncio.sleep(1.0)  # lifecycle creates the bookings first; a payment too early is retried anyway
        for b in bookings:
            body = stripe_payment_body(b["booking_id"], b["total_amount"], b["currency"])
            r = await client.post("/api/payments/webhook", content=body, headers=stripe_headers(body, stripe_secret))
            console.print(f"  payment webhook for {b['booking_id']}: {r.status_code} {r.json().get('status')}")
        await asyncio.sleep(1.0)
        for b in bookings:
            body = supplier_confirmation_body(b["booking_id"], b["supplier"]["name"])
            r = await client.post("/api/suppliers/webhook", content=body, headers=standard_headers(body, supplier_secret))
            console.print(f"  supplier webhook for {b['booking_id']}: {r.status_code} {r.json().get('status')}")
    engine = create_engine(settings, pool_size=1)
    ids = [b["booking_id"] for b in bookings]
    deadline = time.monotonic() + timeout
    try:
        with Live(console=console, refresh_per_second=4) as live:
            while True:
                async with engine.connect() as conn:
                    rows = (await conn.execute(text(
                        "SELECT b.booking_id, b.status, "
                        "(SELECT count(*) FROM documents.documents d WHERE d.booking_id = b.booking_id) "
                        "FROM lifecycle.bookings b WHERE b.booking_id = ANY(:ids) ORDER BY b.booking_id"
                    ), {"ids": ids})).all()
                table = Table("booking", "status", "documents")
                for row in rows:
                    table.add_row(row[0], row[1], str(row[2]))
                live.update(table)
                done = len(rows) == count and all(r[1] == "fulfilled" for r in rows)
                if done or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    if not done:
        console.print("[yellow]not every booking reached fulfilled in time; see the service logs[/]")
        return 1
    console.print(f"[green]all {count} bookings fulfilled[/]")
    return 0
