from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, LargeBinary, func
from sqlmodel import Field, SQLModel


class DocumentType(StrEnum):
    INVOICE = "invoice"
    VOUCHER = "voucher"
    ITINERARY = "itinerary"


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    __table_args__ = {"schema": "documents"}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    booking_id: str = Field(index=True)
    type: str
    filename: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size_bytes: int
    sha256: str
    source_event_id: uuid.UUID
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
