"""FastStream subscribers: decode, call the service in one transaction with the inbox row."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from tripflow_common.db.engine import SessionFactory, unit_of_work
from tripflow_common.events import Envelope, Topic, retry_topic
from tripflow_common.messaging.broker import subscriber_options
from tripflow_common.messaging.inbox import InboxRepository
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
    router = KafkaRouter()
    service = LifecycleService()
    inbox = InboxRepository(SCHEMA, CONSUMER_GROUP)

    # One consumer for all topics: a single group member per process keeps rebalances short.
    @router.subscriber(
        *[settings.topic(t) for t in CONSUMED_TOPICS],
        **subscriber_options(settings, CONSUMER_GROUP),
        title=f"{CONSUMER_GROUP}:events",
    )
    async def apply_event(event: Envelope) -> None:
        async with unit_of_work(session_factory) as session:
            if await inbox.claim(session, event.event_id, event.type):
                await service.handle(session, event)  # type: ignore[arg-type]

    return router
