"""The `data` of every event, one model per topic (DESIGN.md §3): the contract between services.

Producers build these, consumers validate with them, and `tripflow asyncapi` documents them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tripflow_common.events import Envelope, Topic


class Customer(BaseModel):
    name: str = Field(min_length=1)
    email: str = Field(min_length=3)


class LineItem(BaseModel):
    description: str
    amount: int = Field(description="minor units")


class Supplier(BaseModel):
    name: str = Field(min_length=1)


class ItineraryEntry(BaseModel):
    date: str
    title: str
    location: str = ""


class BookingCreatedData(BaseModel):
    booking_id: str = Field(min_length=1, max_length=200)
    customer: Customer
    total_amount: int = Field(ge=0, description="minor units")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
    items: list[LineItem] = Field(default_factory=list)
    travellers: list[str] = Field(default_factory=list)
    supplier: Supplier
    itinerary: list[ItineraryEntry] = Field(default_factory=list)


class PaymentConfirmedData(BaseModel):
    provider: str
    provider_event_id: str
    payment_id: str
    amount: int = Field(description="minor units")
    currency: str
    webhook_event_id: str = Field(
        description="the gateway's webhook_events row id: one payment per webhook"
    )


class SupplierConfirmedData(BaseModel):
    supplier_ref: str
    supplier_name: str
    confirmed_at: str
    webhook_event_id: str | None = None


class SnapshotSupplier(BaseModel):
    name: str
    ref: str | None = None


class SnapshotPayment(BaseModel):
    provider: str
    payment_id: str
    amount: int
    currency: str


class BookingSnapshot(BaseModel):
    """Event-carried state of a booking: documents never query lifecycle."""

    booking_id: str = Field(min_length=1)
    status: str
    customer: Customer
    total_amount: int
    currency: str
    items: list[LineItem] = Field(default_factory=list)
    travellers: list[str] = Field(default_factory=list)
    supplier: SnapshotSupplier
    itinerary: list[ItineraryEntry] = Field(default_factory=list)
    payment: SnapshotPayment | None = None
    documents: list[str] = Field(default_factory=list)


class GeneratedDocument(BaseModel):
    id: str
    type: str
    sha256: str


class DocumentsGeneratedData(BaseModel):
    documents: list[GeneratedDocument]


class AutomationFailedData(BaseModel):
    failure_key: str
    consumer_group: str
    handler: str
    source_topic: str
    event: dict[str, Any] | None = Field(
        description="the whole original envelope; null if undecodable"
    )
    error_type: str
    error_message: str = Field(description="redacted")
    retryable: bool
    attempt: int
    retry_id: str | None = None
    raw_base64: str | None = Field(
        default=None, description="the raw bytes of an undecodable message"
    )


class AutomationResolvedData(BaseModel):
    retry_id: str
    failure_key: str


class AdminRequestData(BaseModel):
    requested_by: str
    reason: str


PAYLOADS: dict[Topic, tuple[type[BaseModel], str, str]] = {
    Topic.BOOKING_CREATED: (
        BookingCreatedData,
        "checkout",
        "A booking was made; lifecycle creates it in pending_payment.",
    ),
    Topic.PAYMENT_CONFIRMED: (
        PaymentConfirmedData,
        "webhook-gateway",
        "A verified payment webhook.",
    ),
    Topic.SUPPLIER_CONFIRMED: (
        SupplierConfirmedData,
        "webhook-gateway",
        "A verified supplier confirmation.",
    ),
    Topic.BOOKING_PAYMENT_CONFIRMED: (
        BookingSnapshot,
        "lifecycle",
        "Booking moved to payment_confirmed.",
    ),
    Topic.BOOKING_SUPPLIER_CONFIRMED: (
        BookingSnapshot,
        "lifecycle",
        "Booking moved to supplier_confirmed.",
    ),
    Topic.BOOKING_FULFILLED: (
        BookingSnapshot,
        "lifecycle",
        "Invoice, voucher and itinerary all exist.",
    ),
    Topic.DOCUMENTS_GENERATED: (DocumentsGeneratedData, "documents", "New documents of a booking."),
    Topic.AUTOMATION_FAILED: (
        AutomationFailedData,
        "any consumer",
        "A handler failed; the retry service takes it.",
    ),
    Topic.AUTOMATION_RESOLVED: (
        AutomationResolvedData,
        "any consumer",
        "A retried event succeeded.",
    ),
    Topic.DOCUMENTS_RESEND_REQUESTED: (
        AdminRequestData,
        "admin-api",
        "An admin asked to resend documents.",
    ),
    Topic.SUPPLIER_RESYNC_REQUESTED: (
        AdminRequestData,
        "admin-api",
        "An admin asked to resync the supplier.",
    ),
}


def typed_envelope(topic: Topic) -> type[Envelope]:
    """An Envelope subclass whose `data` is the topic's payload model (for schemas and docs)."""
    model = PAYLOADS[topic][0]
    name = "".join(part.capitalize() for part in topic.value.replace(".", "_").split("_")) + "Event"
    return type(name, (Envelope,), {"__annotations__": {"data": model}, "__module__": __name__})
