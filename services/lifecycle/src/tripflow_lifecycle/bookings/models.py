from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class BookingStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_CONFIRMED = "payment_confirmed"
    SUPPLIER_CONFIRMED = "supplier_confirmed"
    FULFILLED = "fulfilled"


REQUIRED_DOCUMENTS = frozenset({"invoice", "voucher", "itinerary"})


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


def _jsonlist() -> Any:
    return Field(default_factory=list, sa_column=Column(JSONB, nullable=False))


def _now() -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "lifecycle"}

    booking_id: str = Field(primary_key=True)
    status: str
    customer: dict[str, Any] = _json()
    total_amount: int
    currency: str
    items: list[dict[str, Any]] = _jsonlist()
    travellers: list[str] = _jsonlist()
    supplier: dict[str, Any] = _json()
    itinerary: list[dict[str, Any]] = _jsonlist()
    supplier_ref: str | None = None
    correlation_id: str
    created_at: datetime | None = _now()
    updated_at: datetime | None = _now()


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = {"schema": "lifecycle"}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    booking_id: str = Field(index=True)
    webhook_event_id: str = Field(unique=True)
    provider: str
    provider_event_id: str
    payment_id: str
    amount: int
    currency: str
    created_at: datetime | None = _now()


class BookingTransition(SQLModel, table=True):
    __tablename__ = "booking_transitions"
    __table_args__ = {"schema": "lifecycle"}

    id: int | None = Field(default=None, primary_key=True)
    booking_id: str = Field(index=True)
    from_status: str | None
    to_status: str
    idempotency_key: str = Field(unique=True)
    event_id: uuid.UUID
    event_type: str
    created_at: datetime | None = _now()


class BookingDocument(SQLModel, table=True):
    __tablename__ = "booking_documents"
    __table_args__ = {"schema": "lifecycle"}

    booking_id: str = Field(primary_key=True)
    type: str = Field(primary_key=True)
    document_id: uuid.UUID
    sha256: str
    created_at: datetime | None = _now()
