"""Inbox: `(consumer_group, event_id)` recorded in the same transaction as the effect."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class InboxRepository:
    def __init__(self, schema: str, consumer_group: str) -> None:
        self.schema = schema
        self.consumer_group = consumer_group

    async def claim(self, session: AsyncSession, event_id: uuid.UUID, event_type: str) -> bool:
        """True the first time this group sees the event; False for a redelivery (a no-op)."""
        result = await (await session.connection()).execute(
            text(
                f'INSERT INTO "{self.schema}".processed_events (consumer_group, event_id, event_type) '
                "VALUES (:g, :e, :t) ON CONFLICT DO NOTHING RETURNING event_id"
            ),
            {"g": self.consumer_group, "e": event_id, "t": event_type},
        )
        return result.first() is not None
