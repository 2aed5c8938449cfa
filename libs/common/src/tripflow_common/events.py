"""The event envelope and the topic registry (DESIGN.md §3)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Topic(StrEnum):
    BOOKING_CREATED = "booking.created"
    PAYMENT_CONFIRMED = "payment.confirmed"
    SUPPLIER_CONFIRMED = "supplier.confirmed"
    BOOKING_PAYMENT_CONFIRMED = "booking.payment_confirmed"
    BOOKING_SUPPLIER_CONFIRMED = "booking.supplier_confirmed"
    BOOKING_FULFILLED = "booking.fulfilled"
    DOCUMENTS_GENERATED = "documents.generated"
    AUTOMATION_FAILED = "automation.failed"
    AUTOMATION_RESOLVED = "automation.resolved"
    DOCUMENTS_RESEND_REQUESTED = "documents.resend_requested"
    SUPPLIER_RESYNC_REQUESTED = "supplier.resync_requested"


class ConsumerGroup(StrEnum):
    LIFECYCLE = "lifecycle"
    DOCUMENTS = "documents"
    RETRY = "retry"


def retry_topic(group: str) -> str:
    """The topic on which the retry service sends an event back to one consumer group."""
    return f"retry.{group}"


def all_topics() -> list[str]:
    """Every topic tripflow uses, created up front with the configured partition count."""
    return [t.value for t in Topic] + [retry_topic(g.value) for g in ConsumerGroup]


RETRY_ID_HEADER = "tripflow-retry-id"
ATTEMPT_HEADER = "tripflow-attempt"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """Every Kafka message value. The key is `booking_id`, so one booking's events stay in order."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    booking_id: str = Field(min_length=1, max_length=200)
    correlation_id: str
    causation_id: str | None = None
    producer: str
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def new(
        cls,
        type: str,
        *,
        booking_id: str,
        producer: str,
        data: dict[str, Any],
        cause: Envelope | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        """A new event; `cause` carries the correlation on and becomes the causation."""
        new_id = event_id or uuid.uuid4()
        return cls(
            event_id=new_id,
            type=type,
            booking_id=booking_id,
            producer=producer,
            data=data,
            correlation_id=cause.correlation_id if cause else str(new_id),
            causation_id=str(cause.event_id) if cause else None,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()
