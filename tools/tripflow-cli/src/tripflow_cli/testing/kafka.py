"""Reading what actually reached a topic, and publishing as an outside producer would."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tripflow_common.events import Envelope


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 30.0,
    match: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> list[dict[str, Any]]:
    """Every matching envelope on the topic (from the beginning) once `until` holds or time is up.

    Each item is the decoded envelope plus `_headers` and `_key`.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    try:
                        value = json.loads(record.value)
                    except ValueError:
                        value = {"_raw": record.value}
                    value["_headers"] = {k: v.decode() for k, v in record.headers}
                    value["_key"] = record.key.decode() if record.key else None
                    if match(value):
                        found.append(value)
            if until(found):
                break
    finally:
        await consumer.stop()
    return found


async def publish(
    bootstrap: str,
    topic: str,
    events: list[Envelope] | list[bytes],
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sends = []
        for event in events:
            value = event.to_bytes() if isinstance(event, Envelope) else event
            k = (event.booking_id if isinstance(event, Envelope) else key or "unknown").encode()
            hdrs = [("content-type", b"application/json")] + [
                (a, b.encode()) for a, b in (headers or {}).items()
            ]
            sends.append(await producer.send(topic, value, key=k, headers=hdrs))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def partition_offsets(bootstrap: str, topic: str) -> dict[int, tuple[int, int]]:
    """(beginning, end) offset of each partition: what a topic holds, for failure messages."""
    from aiokafka import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not partitions:
            await consumer.topics()
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
            ]
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return {tp.partition: (begin[tp], end[tp]) for tp in partitions}
    finally:
        await consumer.stop()
