"""Transactional outbox: events written with the state change, published by a relay.

The relay wakes on LISTEN/NOTIFY (polling as a fallback), takes a transaction-scoped
advisory lock so only one instance per schema publishes at a time (which keeps each
booking's events in order), publishes a batch with acks=all and marks it sent in the
same transaction. Killed mid-batch, the rows stay unsent and go out again: consumers
deduplicate on event_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tripflow_common.events import Envelope
from tripflow_common.messaging.schema import outbox_channel

log = logging.getLogger(__name__)

LAG_OBSERVE_INTERVAL = 1.0  # seconds between the count(*) that feeds the lag gauges
BATCH_LINGER_SECONDS = 0.005

OUTBOX_PUBLISHED = Counter(
    "tripflow_outbox_published_total", "Outbox rows published to Kafka", ["schema", "topic"]
)
OUTBOX_LAG = Gauge(
    "tripflow_outbox_lag_seconds", "Age of the oldest unsent outbox row (0 when empty)", ["schema"]
)
OUTBOX_PENDING = Gauge("tripflow_outbox_pending", "Unsent outbox rows", ["schema"])


class OutboxRepository:
    """Writes events into `<schema>.outbox` inside the caller's transaction."""

    def __init__(self, schema: str) -> None:
        self.schema = schema

    async def add(
        self,
        session: AsyncSession,
        envelope: Envelope,
        *,
        topic: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        await (await session.connection()).execute(
            text(
                f'INSERT INTO "{self.schema}".outbox (event_id, topic, key, payload, headers) '
                "VALUES (:event_id, :topic, :key, :payload, CAST(:headers AS JSONB))"
            ),
            {
                "event_id": envelope.event_id,
                "topic": topic or envelope.type,
                "key": envelope.booking_id,
                "payload": envelope.model_dump_json(),
                "headers": json.dumps(headers or {}),
            },
        )

    async def pending_stats(self, session: AsyncSession) -> tuple[int, datetime | None]:
        row = (
            await (await session.connection()).execute(
                text(
                    f'SELECT count(*), min(created_at) FROM "{self.schema}".outbox '
                    "WHERE sent_at IS NULL"
                )
            )
        ).one()
        return int(row[0]), row[1]


def kafka_producer(bootstrap: str) -> AIOKafkaProducer:
    """acks=all with the idempotent producer: a retried send never duplicates inside Kafka."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=15000,
    )


class OutboxRelay:
    """Publishes `<schema>.outbox` rows to Kafka; one task per service process."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        schema: str,
        bootstrap: str,
        dsn: str,
        namespace: str = "",
        batch_size: int = 500,
        poll_interval: float = 1.0,
        producer_factory: Callable[[str], AIOKafkaProducer] = kafka_producer,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.bootstrap = bootstrap
        self.dsn = dsn
        self.namespace = namespace
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._lock_key = zlib.crc32(f"outbox:{schema}".encode())
        self.last_error: str | None = None
        self._lag_observed_at = 0.0

    async def run(self) -> None:
        """Loop until cancelled; Kafka or Postgres trouble means delay, never loss."""
        listener = asyncio.create_task(self._listen(), name=f"outbox-listen-{self.schema}")
        backoff = 0.5
        try:
            while True:
                try:
                    sent = await self.publish_batch()
                    self.last_error = None
                    backoff = 0.5
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # any broker or DB fault: keep the rows, try again
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "outbox relay could not publish; rows kept for the next attempt",
                        extra={"schema": self.schema, "error_type": type(exc).__name__},
                    )
                    await self._reset_producer()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if sent >= self.batch_size:
                    continue  # more waiting: no sleep
                if sent:
                    # Under load every commit NOTIFYs: a few ms let the next batch fill up.
                    await asyncio.sleep(BATCH_LINGER_SECONDS)
                    continue
                self._wake.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that races a
                # NOTIFY wake-up, and the relay (so the service's stop) then never ends.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()
        finally:
            listener.cancel()
            await self._reset_producer()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory(self.bootstrap)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _reset_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except Exception:
                log.debug("producer stop failed", exc_info=True)

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows went out."""
        async with self.engine.begin() as conn:
            got_lock = (
                await conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self._lock_key}
                )
            ).scalar_one()
            if not got_lock:
                return 0
            rows = (
                await conn.execute(
                    text(
                        f'SELECT id, topic, key, payload, headers FROM "{self.schema}".outbox '
                        "WHERE sent_at IS NULL ORDER BY id LIMIT :n"
                    ),
                    {"n": self.batch_size},
                )
            ).all()
            if not rows:
                OUTBOX_PENDING.labels(self.schema).set(0)
                OUTBOX_LAG.labels(self.schema).set(0.0)
                return 0
            if time.monotonic() - self._lag_observed_at >= LAG_OBSERVE_INTERVAL:
                await self._observe_lag(conn)
            producer = await self._ensure_producer()
            pending: list[Awaitable[Any]] = []
            for row in rows:
                headers = [(k, str(v).encode()) for k, v in (row.headers or {}).items()]
                headers.append(("content-type", b"application/json"))
                pending.append(
                    await producer.send(
                        self.namespace + row.topic,
                        row.payload.encode(),
                        key=row.key.encode(),
                        headers=headers,
                    )
                )
            await asyncio.gather(*pending)
            await conn.execute(
                text(f'UPDATE "{self.schema}".outbox SET sent_at = now() WHERE id = ANY(:ids)'),
                {"ids": [row.id for row in rows]},
            )
        for row in rows:
            OUTBOX_PUBLISHED.labels(self.schema, row.topic).inc()
        return len(rows)

    async def _observe_lag(self, conn: Any) -> None:
        self._lag_observed_at = time.monotonic()
        count, age = (
            await conn.execute(
                text(
                    "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) "
                    f'FROM "{self.schema}".outbox WHERE sent_at IS NULL'
                )
            )
        ).one()
        OUTBOX_PENDING.labels(self.schema).set(count)
        OUTBOX_LAG.labels(self.schema).set(float(age))

    async def _listen(self) -> None:
        """LISTEN on the schema's channel; reconnects on its own, polling covers the gaps."""
        channel = outbox_channel(self.schema)
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(2)
                continue
            try:
                await conn.add_listener(channel, lambda *_: self._wake.set())
                while not conn.is_closed():
                    await asyncio.sleep(5)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.debug("outbox listener lost its connection", exc_info=True)
            finally:
                if not conn.is_closed():
                    await conn.close(timeout=2)
