"""FastStream subscribers of the documents service."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from tripflow_common.db.engine import SessionFactory, unit_of_work
from tripflow_common.events import Envelope, Topic, retry_topic
from tripflow_common.messaging.broker import subscriber_options
from tripflow_common.messaging.inbox import InboxRepository
from tripflow_common.settings import CommonSettings
from tripflow_documents import CONSUMER_GROUP, SCHEMA
from tripflow_documents.documents.service import DocumentService

CONSUMED_TOPICS = [
    Topic.BOOKING_PAYMENT_CONFIRMED,
    Topic.BOOKING_SUPPLIER_CONFIRMED,
    retry_topic(CONSUMER_GROUP),
]


def build_router(session_factory: SessionFactory, settings: CommonSettings) -> KafkaRouter:
    router = KafkaRouter()
    service = DocumentService()
    inbox = InboxRepository(SCHEMA, CONSUMER_GROUP)

    # One consumer for all topics: a single group member per process keeps rebalances short.
    @router.subscriber(
        *[settings.topic(t) for t in CONSUMED_TOPICS],
        **subscriber_options(settings, CONSUMER_GROUP),
        title=f"{CONSUMER_GROUP}:events",
    )
    async def generate_documents(event: Envelope) -> None:
        async with unit_of_work(session_factory) as session:
            if await inbox.claim(session, event.event_id, event.type):
                await service.handle(session, event)

    return router
