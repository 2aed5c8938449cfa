from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tripflow_lifecycle.bookings.models import Booking, BookingDocument, BookingTransition, Payment


class BookingRepository:
    async def insert_if_new(self, session: AsyncSession, booking: Booking) -> bool:
        values = booking.model_dump(exclude={"created_at", "updated_at"})
        result = await session.exec(
            insert(Booking)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(col(Booking.booking_id))
        )
        return result.first() is not None

    async def get_for_update(self, session: AsyncSession, booking_id: str) -> Booking | None:
        """Lock the booking row: events of one booking from several topics apply one at a time."""
        result = await session.exec(
            select(Booking).where(Booking.booking_id == booking_id).with_for_update()
        )
        return result.first()

    async def get(self, session: AsyncSession, booking_id: str) -> Booking | None:
        return await session.get(Booking, booking_id)

    async def set_status(self, session: AsyncSession, booking: Booking, status: str) -> None:
        booking.status = status
        booking.updated_at = datetime.now(UTC)
        session.add(booking)
        await session.flush()

    async def record_transition(self, session: AsyncSession, transition: BookingTransition) -> bool:
        """Journal a transition once per idempotency key; False if the key was already used."""
        values = transition.model_dump(exclude={"id", "created_at"})
        result = await session.exec(
            insert(BookingTransition)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(col(BookingTransition.id))
        )
        return result.first() is not None

    async def transitions(self, session: AsyncSession, booking_id: str) -> list[BookingTransition]:
        result = await session.exec(
            select(BookingTransition)
            .where(BookingTransition.booking_id == booking_id)
            .order_by(col(BookingTransition.id))
        )
        return list(result.all())


class PaymentRepository:
    async def insert_if_new(self, session: AsyncSession, payment: Payment) -> bool:
        values = payment.model_dump(exclude={"created_at"})
        result = await session.exec(
            insert(Payment)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["webhook_event_id"])
            .returning(col(Payment.id))
        )
        return result.first() is not None

    async def latest_for_booking(self, session: AsyncSession, booking_id: str) -> Payment | None:
        result = await session.exec(
            select(Payment)
            .where(Payment.booking_id == booking_id)
            .order_by(col(Payment.created_at).desc())
        )
        return result.first()


class BookingDocumentRepository:
    async def record(
        self, session: AsyncSession, booking_id: str, type: str, document_id: uuid.UUID, sha256: str
    ) -> None:
        await session.exec(
            insert(BookingDocument)
            .values(booking_id=booking_id, type=type, document_id=document_id, sha256=sha256)
            .on_conflict_do_nothing()
        )

    async def types_for(self, session: AsyncSession, booking_id: str) -> set[str]:
        result = await session.exec(
            select(BookingDocument.type).where(BookingDocument.booking_id == booking_id)
        )
        return set(result.all())

    async def count(self, session: AsyncSession) -> int:
        return int((await session.exec(select(func.count()).select_from(BookingDocument))).one())
