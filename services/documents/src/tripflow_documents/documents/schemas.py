"""The booking snapshot lifecycle sends (event-carried state)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Customer(BaseModel):
    name: str
    email: str


class LineItem(BaseModel):
    description: str
    amount: int


class SupplierInfo(BaseModel):
    name: str
    ref: str | None = None


class ItineraryEntry(BaseModel):
    date: str
    title: str
    location: str = ""


class PaymentInfo(BaseModel):
    provider: str
    payment_id: str
    amount: int
    currency: str


class BookingSnapshot(BaseModel):
    booking_id: str = Field(min_length=1)
    status: str
    customer: Customer
    total_amount: int
    currency: str
    items: list[LineItem] = Field(default_factory=list)
    travellers: list[str] = Field(default_factory=list)
    supplier: SupplierInfo
    itinerary: list[ItineraryEntry] = Field(default_factory=list)
    payment: PaymentInfo | None = None
