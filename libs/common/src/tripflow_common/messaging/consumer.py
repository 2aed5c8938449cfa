"""The shape every tripflow consumer shares: one subscriber, inbox and effect in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from faststream.kafka import KafkaRouter
from sqlmodel.ext.asyncio.session import AsyncSession

from tripflow_common.db.engine import SessionFactory, unit_of_work
from tripflow_common.events import Envelope
from tripflow_common.messaging.broker import subscriber_options
from tripflow_common.messaging.inbox import InboxRepository
from tripflow_common.settings import CommonSettings

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[Any]]


def inbox_router(
    *,
    session_factory: SessionFactory,
    settings: CommonSettings,
    schema: str,
    consumer_group: str,
    topics: Sequence[str],
    handle: EventHandler,
) -> KafkaRouter:
    """A router with one subscriber on `topics` (one group member per process keeps rebalances
    short) that applies each event once: inbox row and effect commit together, or neither."""
    router = KafkaRouter()
    inbox = InboxRepository(schema, consumer_group)

    @router.subscriber(
        *[settings.topic(t) for t in topics],
        **subscriber_options(settings, consumer_group),
        title=f"{consumer_group}:events",
    )
    async def apply_event(event: Envelope) -> None:
        async with unit_of_work(session_factory) as session:
            if await inbox.claim(session, event.event_id, event.type):
                await handle(session, event)

    return router
