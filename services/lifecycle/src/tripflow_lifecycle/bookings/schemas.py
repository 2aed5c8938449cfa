"""The `data` of the events lifecycle consumes (DESIGN.md §3)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Customer(BaseModel):
    name: str = Field(min_length=1)
    email: str = Field(min_length=3)


class LineItem(BaseModel):
    description: str
    amount: int


class Supplier(BaseModel):
    name: str = Field(min_length=1)


class ItineraryEntry(BaseModel):
    date: str
    title: str
    location: str = ""


class BookingCreated(BaseModel):
    booking_id: str = Field(min_length=1, max_length=200)
    customer: Customer
    total_amount: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    items: list[LineItem] = Field(default_factory=list)
    travellers: list[str] = Field(default_factory=list)
    supplier: Supplier
    itinerary: list[ItineraryEntry] = Field(default_factory=list)


class PaymentConfirmed(BaseModel):
    provider: str
    provider_event_id: str
    payment_id: str
    amount: int
    currency: str
    webhook_event_id: str


class SupplierConfirmed(BaseModel):
    supplier_ref: str
    supplier_name: str
    confirmed_at: str
    webhook_event_id: str | None = None


class GeneratedDocument(BaseModel):
    id: str
    type: str
    sha256: str


class DocumentsGenerated(BaseModel):
    documents: list[GeneratedDocument]
