"""FastStream subscribers of the lifecycle service."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from tripflow_common.db.engine import SessionFactory
from tripflow_common.events import Topic, retry_topic
from tripflow_common.messaging.consumer import inbox_router
from tripflow_common.settings import CommonSettings
from tripflow_lifecycle import CONSUMER_GROUP, SCHEMA
from tripflow_lifecycle.bookings.service import LifecycleService

CONSUMED_TOPICS = [
    Topic.BOOKING_CREATED,
    Topic.PAYMENT_CONFIRMED,
    Topic.SUPPLIER_CONFIRMED,
    Topic.DOCUMENTS_GENERATED,
    retry_topic(CONSUMER_GROUP),
]


def build_router(session_factory: SessionFactory, settings: CommonSettings) -> KafkaRouter:
    return inbox_router(
        session_factory=session_factory,
        settings=settings,
        schema=SCHEMA,
        consumer_group=CONSUMER_GROUP,
        topics=CONSUMED_TOPICS,
        handle=LifecycleService().handle,
    )
