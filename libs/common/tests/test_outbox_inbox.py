"""Outbox and inbox on a real database and broker."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import text

from tripflow_cli.testing.kafka import read_topic
from tripflow_common.db.engine import create_engine, create_session_factory, unit_of_work
from tripflow_common.db.migrations import upgrade_schema
from tripflow_common.events import Envelope
from tripflow_common.messaging.inbox import InboxRepository
from tripflow_common.messaging.outbox import OutboxRelay, OutboxRepository
from tripflow_common.settings import CommonSettings

pytestmark = pytest.mark.integration


async def test_migrations_are_idempotent_and_concurrent(
    tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    engine = create_engine(CommonSettings(_env_file=None))  # type: ignore[call-arg]
    try:
        await asyncio.gather(
            *(upgrade_schema(engine, "gateway", "tripflow_gateway:migrations") for _ in range(3))
        )
        await upgrade_schema(engine, "gateway", "tripflow_gateway:migrations")
    finally:
        await engine.dispose()
    assert await db.fetchval("SELECT version_num FROM gateway.alembic_version") == "gateway_0001"


async def test_rolled_back_transaction_leaves_no_outbox_row_and_relay_publishes_committed_ones(
    tripflow_env: dict[str, str], db: asyncpg.Connection
) -> None:
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    await upgrade_schema(engine, "gateway", "tripflow_gateway:migrations")
    outbox = OutboxRepository("gateway")
    booking = f"BK-OUTBOX-{uuid.uuid4().hex[:8]}"
    kept = Envelope.new("payment.confirmed", booking_id=booking, producer="test", data={"n": 1})
    dropped = Envelope.new("payment.confirmed", booking_id=booking, producer="test", data={"n": 2})
    async with unit_of_work(factory) as session:
        await outbox.add(session, kept)
    with pytest.raises(RuntimeError):
        async with unit_of_work(factory) as session:
            await outbox.add(session, dropped)
            raise RuntimeError("the state change failed")
    assert await db.fetchval("SELECT count(*) FROM gateway.outbox WHERE key=$1", booking) == 1

    relays = [
        OutboxRelay(
            engine=engine,
            schema="gateway",
            bootstrap=settings.kafka_bootstrap,
            dsn=settings.plain_database_url,
            namespace=settings.kafka_namespace,
            batch_size=50,
        )
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        seen = await read_topic(
            settings.kafka_bootstrap,
            settings.topic("payment.confirmed"),
            match=lambda e: e.get("booking_id") == booking,
            until=lambda found: len(found) >= 1,
        )
        await asyncio.sleep(1.5)  # a second relay must not publish it again
        seen = await read_topic(
            settings.kafka_bootstrap,
            settings.topic("payment.confirmed"),
            match=lambda e: e.get("booking_id") == booking,
            until=lambda found: False,
            timeout=2,
        )
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()
    assert [e["event_id"] for e in seen] == [str(kept.event_id)]
    assert seen[0]["_key"] == booking
    assert await db.fetchval("SELECT sent_at IS NOT NULL FROM gateway.outbox WHERE key=$1", booking)


async def test_inbox_claims_each_event_once_per_group(tripflow_env: dict[str, str]) -> None:
    engine = create_engine(CommonSettings(_env_file=None))  # type: ignore[call-arg]
    factory = create_session_factory(engine)
    await upgrade_schema(engine, "lifecycle", "tripflow_lifecycle:migrations")
    event_id = uuid.uuid4()
    try:
        results = []
        for group in ("g1", "g1", "g2"):
            async with unit_of_work(factory) as session:
                results.append(
                    await InboxRepository("lifecycle", group).claim(session, event_id, "x")
                )
        async with unit_of_work(factory) as session:
            n = (
                await (await session.connection()).execute(
                    text("SELECT count(*) FROM lifecycle.processed_events WHERE event_id = :e"),
                    {"e": event_id},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert results == [True, False, True]
    assert n == 2
