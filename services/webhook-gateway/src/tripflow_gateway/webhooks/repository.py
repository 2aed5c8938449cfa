from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tripflow_gateway.webhooks.schemas import WebhookEvent


class WebhookEventRepository:
    async def insert_if_new(
        self,
        session: AsyncSession,
        event: WebhookEvent,
        *,
        row_id: uuid.UUID,
        outcome: str,
        published_event_id: uuid.UUID | None,
    ) -> bool:
        """Record the webhook once per (provider, event id); False when it was already there."""
        result = await (await session.connection()).execute(
            text(
                "INSERT INTO gateway.webhook_events "
                "(id, provider, event_id, event_type, booking_id, outcome, payload, published_event_id) "
                "VALUES (:id, :provider, :event_id, :event_type, :booking_id, :outcome, "
                "CAST(:payload AS JSONB), :published) "
                "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
            ),
            {
                "id": row_id,
                "provider": event.provider,
                "event_id": event.event_id,
                "event_type": event.event_type,
                "booking_id": event.booking_id,
                "outcome": outcome,
                "payload": json.dumps(event.payload),
                "published": published_event_id,
            },
        )
        return result.first() is not None
