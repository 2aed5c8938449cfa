"""Receiving a webhook: verify, understand, record once, queue the event, all in one transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from tripflow_common.events import Envelope
from tripflow_common.messaging.outbox import OutboxRepository
from tripflow_gateway import SCHEMA, SERVICE
from tripflow_gateway.settings import GatewaySettings
from tripflow_gateway.webhooks import schemas
from tripflow_gateway.webhooks.errors import MissingWebhookHeaders, UnknownProvider
from tripflow_gateway.webhooks.repository import WebhookEventRepository
from tripflow_gateway.webhooks.signatures import verify_standard, verify_stripe

Provider = Literal["stripe", "standard", "supplier"]
Outcome = Literal["accepted", "duplicate", "ignored"]

WEBHOOKS_RECEIVED = Counter("tripflow_webhooks_received_total", "Webhooks received", ["provider"])
WEBHOOKS_OUTCOME = Counter(
    "tripflow_webhooks_total",
    "Webhooks by outcome (accepted, duplicate, ignored)",
    ["provider", "outcome"],
)
WEBHOOKS_REJECTED = Counter(
    "tripflow_webhooks_rejected_total", "Webhooks rejected, by reason", ["provider", "reason"]
)


@dataclass(frozen=True)
class WebhookResult:
    outcome: Outcome
    provider: str
    event_id: str
    published_event_id: uuid.UUID | None = None


def detect_payment_provider(headers: Mapping[str, str]) -> Provider:
    """`POST /api/payments/webhook` tells its scheme by its headers."""
    if "stripe-signature" in headers:
        return "stripe"
    if "webhook-signature" in headers or "webhook-id" in headers:
        return "standard"
    raise MissingWebhookHeaders(
        "send Stripe-Signature (Stripe) or webhook-id/webhook-timestamp/webhook-signature "
        "(Standard Webhooks)"
    )


class WebhookService:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.events = WebhookEventRepository()
        self.outbox = OutboxRepository(SCHEMA)

    def verify(
        self, provider: str, headers: Mapping[str, str], body: bytes
    ) -> schemas.WebhookEvent:
        """Verify the signature, then read the body; raises a WebhookRejected subclass."""
        now = time.time()
        tolerance = self.settings.webhook_tolerance_seconds
        if provider == "stripe":
            verify_stripe(
                headers.get("stripe-signature"),
                body,
                self.settings.stripe_webhook_secrets,
                now=now,
                tolerance=tolerance,
            )
            return schemas.stripe_event(schemas.load_json(body))
        if provider == "standard":
            parsed = verify_standard(
                headers, body, self.settings.standard_webhook_secrets, now=now, tolerance=tolerance
            )
            return schemas.standard_payment_event(parsed.message_id, schemas.load_json(body))
        if provider == "supplier":
            parsed = verify_standard(
                headers, body, self.settings.supplier_webhook_secrets, now=now, tolerance=tolerance
            )
            return schemas.supplier_event(parsed.message_id, schemas.load_json(body))
        raise UnknownProvider(f"unknown webhook provider {provider[:40]!r}")

    async def record(self, session: AsyncSession, event: schemas.WebhookEvent) -> WebhookResult:
        """Record the webhook and, if it means something, its event in the outbox: one transaction."""
        row_id = uuid.uuid4()
        envelope: Envelope | None = None
        if event.topic is not None and event.booking_id is not None:
            envelope = Envelope.new(
                event.topic,
                booking_id=event.booking_id,
                producer=SERVICE,
                data={**event.data, "webhook_event_id": str(row_id)},
            )
        outcome: Outcome = "accepted" if envelope else "ignored"
        is_new = await self.events.insert_if_new(
            session,
            event,
            row_id=row_id,
            outcome=outcome,
            published_event_id=envelope.event_id if envelope else None,
        )
        if not is_new:
            return WebhookResult("duplicate", event.provider, event.event_id)
        if envelope is not None:
            await self.outbox.add(session, envelope)
        return WebhookResult(
            outcome, event.provider, event.event_id, envelope.event_id if envelope else None
        )
