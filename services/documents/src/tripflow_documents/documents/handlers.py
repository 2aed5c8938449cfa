"""FastStream subscribers of the documents service."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from tripflow_common.db.engine import SessionFactory
from tripflow_common.events import Topic, retry_topic
from tripflow_common.messaging.consumer import inbox_router
from tripflow_common.settings import CommonSettings
from tripflow_documents import CONSUMER_GROUP, SCHEMA
from tripflow_documents.documents.service import DocumentService

CONSUMED_TOPICS = [
    Topic.BOOKING_PAYMENT_CONFIRMED,
    Topic.BOOKING_SUPPLIER_CONFIRMED,
    retry_topic(CONSUMER_GROUP),
]


def build_router(session_factory: SessionFactory, settings: CommonSettings) -> KafkaRouter:
    return inbox_router(
        session_factory=session_factory,
        settings=settings,
        schema=SCHEMA,
        consumer_group=CONSUMER_GROUP,
        topics=CONSUMED_TOPICS,
        handle=DocumentService().handle,
    )
