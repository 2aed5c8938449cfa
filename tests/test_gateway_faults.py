"""The gateway under faults, on real processes: a dead broker delays, never loses; a relay
killed in the middle of a batch loses nothing (a re-sent row is harmless downstream)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tripflow_cli.infra import Kafka
from tripflow_cli.testing.apps import ServiceProcesses, eventually, free_port
from tripflow_cli.testing.factories import new_booking_id
from tripflow_cli.testing.infra import TestInfra, create_database, drop_database
from tripflow_cli.testing.kafka import partition_offsets, read_topic
from tripflow_cli.testing.webhooks import first_secret, stripe_payment_intent, stripe_signed

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
async def private_db(
    test_infra: TestInfra, tripflow_env: dict[str, str]
) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A database of this test's own: no other gateway's relay (the session's in-process one,
    on the shared broker) may drain this test's outbox."""
    name = f"tripflow_fault_{uuid.uuid4().hex[:8]}"
    url = await create_database(test_infra.admin_database_url, name)
    conn = await asyncpg.connect(url)
    yield url, conn
    await conn.close()
    await drop_database(test_infra.admin_database_url, name)


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[Kafka]:
    """A broker of this test's own, so stopping it disturbs nobody else."""
    kafka = Kafka(f"127.0.0.1:{free_port()}", state_dir=tmp_path)
    kafka.up()
    yield kafka
    kafka.down()


async def send_payments(
    url: str, env: dict[str, str], booking_ids: list[str]
) -> list[httpx.Response]:
    secret = first_secret(env, "TRIPFLOW_STRIPE_WEBHOOK_SECRETS")
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def one(bid: str) -> httpx.Response:
            body = stripe_payment_intent(bid, 10_000)
            return await client.post(
                "/api/payments/webhook", content=body, headers=stripe_signed(body, secret)
            )

        return list(await asyncio.gather(*(one(b) for b in booking_ids)))


async def published_ids(db: asyncpg.Connection, like: str) -> set[str]:
    rows = await db.fetch(
        "SELECT published_event_id::text AS id FROM gateway.webhook_events WHERE booking_id LIKE $1",
        like,
    )
    return {r["id"] for r in rows}


async def test_broker_down_webhooks_still_accepted_and_published_after_restart(
    processes: ServiceProcesses,
    private_kafka: Kafka,
    tripflow_env: dict[str, str],
    private_db: tuple[str, asyncpg.Connection],
) -> None:
    url, db = private_db
    gateway = processes.start(
        "webhook-gateway",
        env={"TRIPFLOW_KAFKA_BOOTSTRAP": private_kafka.bootstrap, "TRIPFLOW_DATABASE_URL": url},
    )
    prefix = new_booking_id("BK-DOWN")
    before = await send_payments(gateway.url, tripflow_env, [f"{prefix}-before"])
    assert before[0].status_code == 200
    await eventually(
        lambda: db.fetchval("SELECT count(*) = 0 FROM gateway.outbox WHERE sent_at IS NULL"),
        what="the first event published while the broker is up",
    )

    await asyncio.to_thread(private_kafka.down)
    ids = [f"{prefix}-{i:02d}" for i in range(30)]
    responses = await send_payments(gateway.url, tripflow_env, ids)
    assert [r.status_code for r in responses] == [200] * 30
    assert {r.json()["status"] for r in responses} == {"accepted"}
    unsent = await db.fetchval(
        "SELECT count(*) FROM gateway.outbox WHERE key LIKE $1 AND sent_at IS NULL", f"{prefix}-%"
    )
    assert unsent >= 30, "with the broker down the events wait in the outbox"

    await asyncio.to_thread(private_kafka.up)
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) = 0 FROM gateway.outbox WHERE key LIKE $1 AND sent_at IS NULL",
            f"{prefix}-%",
        ),
        timeout=90,
        what="outbox drained after the broker came back",
    )
    ns = tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"]
    expected = await published_ids(db, f"{prefix}-%")
    assert len(expected) == 31
    seen = await read_topic(
        private_kafka.bootstrap,
        ns + "payment.confirmed",
        match=lambda e: str(e.get("booking_id", "")).startswith(prefix),
        until=lambda found: {e["event_id"] for e in found} >= expected,
        timeout=30,
    )
    offsets = await partition_offsets(private_kafka.bootstrap, ns + "payment.confirmed")
    assert {e["event_id"] for e in seen} == expected, f"partition offsets: {offsets}"


async def test_relay_killed_mid_batch_loses_nothing(
    processes: ServiceProcesses,
    tripflow_env: dict[str, str],
    private_db: tuple[str, asyncpg.Connection],
) -> None:
    url, db = private_db
    small_batches = {"TRIPFLOW_OUTBOX_BATCH_SIZE": "3", "TRIPFLOW_DATABASE_URL": url}
    gateway = processes.start("webhook-gateway", env=small_batches)
    prefix = new_booking_id("BK-KILL")
    like = f"{prefix}-%"
    sender = asyncio.create_task(
        send_payments(gateway.url, tripflow_env, [f"{prefix}-{i:03d}" for i in range(150)])
    )
    # Kill the gateway (and its relay) while part of the outbox is sent and part is not.
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) > 10 FROM gateway.outbox WHERE key LIKE $1",
            like,
        ),
        timeout=60,
        interval=0.02,
        what="relay under way",
    )
    processes.kill(gateway)
    responses = await asyncio.gather(sender, return_exceptions=True)
    sent, total = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL), count(*) FROM gateway.outbox WHERE key LIKE $1",
        like,
    )
    assert 0 < sent < total, (sent, total)
    accepted = await published_ids(db, like)
    assert len(accepted) == total

    processes.start("webhook-gateway", instance="-2", env=small_batches)
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) = 0 FROM gateway.outbox WHERE key LIKE $1 AND sent_at IS NULL", like
        ),
        timeout=60,
        what="outbox drained by the restarted relay",
    )
    ns, bootstrap = (
        tripflow_env["TRIPFLOW_KAFKA_NAMESPACE"],
        tripflow_env["TRIPFLOW_KAFKA_BOOTSTRAP"],
    )
    seen = await read_topic(
        bootstrap,
        ns + "payment.confirmed",
        match=lambda e: str(e.get("booking_id", "")).startswith(prefix),
        until=lambda found: {e["event_id"] for e in found} >= accepted,
        timeout=30,
    )
    assert {e["event_id"] for e in seen} == accepted
    del responses
