"""Kafka broker factory and topic provisioning."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from tripflow_common.events import all_topics
from tripflow_common.messaging.failures import FailureReporter
from tripflow_common.settings import CommonSettings


def create_broker(settings: CommonSettings, reporter: FailureReporter | None = None) -> KafkaBroker:
    """A FastStream broker whose producer uses acks=all and idempotence."""
    broker = KafkaBroker(
        settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15000,
        middlewares=[reporter.middleware] if reporter else [],
        logger=logging.getLogger("faststream"),
        graceful_timeout=15.0,
    )
    if reporter is not None:
        reporter.broker = broker
    return broker


def subscriber_options(settings: CommonSettings, consumer_group: str) -> dict[str, Any]:
    """What every tripflow subscriber says explicitly: its group, and ack after the effect.

    NACK_ON_ERROR commits the offset only once the handler (and its transaction) is done,
    and seeks back when an error escapes the failure middleware, so the message comes again.
    """
    return {
        "group_id": settings.group(consumer_group),
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
        "max_poll_interval_ms": 300_000,
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 2_000,
    }


async def ensure_topics(
    bootstrap: str, partitions: int, topics: list[str] | None = None, namespace: str = ""
) -> None:
    """Create every tripflow topic with the configured partition count; existing ones stay."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [f"{namespace}{t}" for t in (topics or all_topics())]
        missing = [t for t in wanted if t not in existing]
        if missing:
            # Another service may have created them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
    finally:
        await admin.close()
