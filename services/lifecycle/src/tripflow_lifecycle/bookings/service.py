"""The booking state machine: every transition journalled, every emitted event in the outbox."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from tripflow_common.events import Envelope, Topic
from tripflow_common.messaging.outbox import OutboxRepository
from tripflow_lifecycle import SCHEMA, SERVICE
from tripflow_lifecycle.bookings.errors import AmountMismatch, BookingNotFound, InvalidTransition
from tripflow_lifecycle.bookings.models import (
    REQUIRED_DOCUMENTS,
    Booking,
    BookingStatus,
    BookingTransition,
    Payment,
)
from tripflow_lifecycle.bookings.repository import (
    BookingDocumentRepository,
    BookingRepository,
    PaymentRepository,
)
from tripflow_lifecycle.bookings.schemas import (
    BookingCreated,
    DocumentsGenerated,
    PaymentConfirmed,
    SupplierConfirmed,
)

log = logging.getLogger(__name__)

S = BookingStatus

# The whole state machine: (from, to) → the event the move emits.
TRANSITIONS: dict[tuple[BookingStatus | None, BookingStatus], Topic | None] = {
    (None, S.PENDING_PAYMENT): None,
    (S.PENDING_PAYMENT, S.PAYMENT_CONFIRMED): Topic.BOOKING_PAYMENT_CONFIRMED,
    (S.PAYMENT_CONFIRMED, S.SUPPLIER_CONFIRMED): Topic.BOOKING_SUPPLIER_CONFIRMED,
    (S.SUPPLIER_CONFIRMED, S.FULFILLED): Topic.BOOKING_FULFILLED,
}


def idempotency_key(event: Envelope) -> str:
    return f"{event.type}:{event.event_id}"


class LifecycleService:
    def __init__(self) -> None:
        self.bookings = BookingRepository()
        self.payments = PaymentRepository()
        self.documents = BookingDocumentRepository()
        self.outbox = OutboxRepository(SCHEMA)

    async def handle(self, session: AsyncSession, event: Envelope) -> None:
        """Apply one event; unknown types are ignored (other consumers may want them)."""
        handlers = {
            Topic.BOOKING_CREATED.value: self.create_booking,
            Topic.PAYMENT_CONFIRMED.value: self.confirm_payment,
            Topic.SUPPLIER_CONFIRMED.value: self.confirm_supplier,
            Topic.DOCUMENTS_GENERATED.value: self.record_documents,
        }
        handler = handlers.get(event.type)
        if handler is not None:
            await handler(session, event)

    async def create_booking(self, session: AsyncSession, event: Envelope) -> None:
        data = BookingCreated.model_validate({"booking_id": event.booking_id, **event.data})
        booking = Booking(
            booking_id=data.booking_id,
            status=S.PENDING_PAYMENT,
            customer=data.customer.model_dump(),
            total_amount=data.total_amount,
            currency=data.currency,
            items=[i.model_dump() for i in data.items],
            travellers=data.travellers,
            supplier=data.supplier.model_dump(),
            itinerary=[i.model_dump() for i in data.itinerary],
            correlation_id=event.correlation_id,
        )
        if await self.bookings.insert_if_new(session, booking):
            await self._journal(session, booking, None, S.PENDING_PAYMENT, event)

    async def confirm_payment(self, session: AsyncSession, event: Envelope) -> None:
        data = PaymentConfirmed.model_validate(event.data)
        booking = await self._locked_booking(session, event.booking_id)
        if data.amount != booking.total_amount or data.currency.upper() != booking.currency:
            raise AmountMismatch(
                f"payment {data.amount} {data.currency} does not match booking "
                f"{booking.total_amount} {booking.currency}"
            )
        payment = Payment(
            booking_id=booking.booking_id,
            webhook_event_id=data.webhook_event_id,
            provider=data.provider,
            provider_event_id=data.provider_event_id,
            payment_id=data.payment_id,
            amount=data.amount,
            currency=data.currency.upper(),
        )
        if not await self.payments.insert_if_new(session, payment):
            return  # this webhook's payment is already recorded
        if booking.status == S.PENDING_PAYMENT:
            await self._move(session, booking, S.PAYMENT_CONFIRMED, event, payment=payment)
        else:
            log.info("payment for a booking already paid", extra={"booking_id": booking.booking_id})

    async def confirm_supplier(self, session: AsyncSession, event: Envelope) -> None:
        data = SupplierConfirmed.model_validate(event.data)
        booking = await self._locked_booking(session, event.booking_id)
        if booking.status == S.PENDING_PAYMENT:
            raise InvalidTransition(
                f"booking {booking.booking_id} is {booking.status}: supplier confirmation waits for payment"
            )
        if booking.status != S.PAYMENT_CONFIRMED:
            return  # already confirmed by the supplier: a repeat changes nothing
        booking.supplier_ref = data.supplier_ref
        booking.supplier = {
            **booking.supplier,
            "name": data.supplier_name or booking.supplier.get("name"),
        }
        await self._move(session, booking, S.SUPPLIER_CONFIRMED, event)

    async def record_documents(self, session: AsyncSession, event: Envelope) -> None:
        data = DocumentsGenerated.model_validate(event.data)
        booking = await self._locked_booking(session, event.booking_id)
        for doc in data.documents:
            await self.documents.record(
                session, booking.booking_id, doc.type, uuid.UUID(doc.id), doc.sha256
            )
        have = await self.documents.types_for(session, booking.booking_id)
        if booking.status == S.SUPPLIER_CONFIRMED and have >= REQUIRED_DOCUMENTS:
            await self._move(session, booking, S.FULFILLED, event)

    async def _locked_booking(self, session: AsyncSession, booking_id: str) -> Booking:
        booking = await self.bookings.get_for_update(session, booking_id)
        if booking is None:
            raise BookingNotFound(f"booking {booking_id} is not known (yet)")
        return booking

    async def _move(
        self,
        session: AsyncSession,
        booking: Booking,
        to: BookingStatus,
        event: Envelope,
        payment: Payment | None = None,
    ) -> None:
        current = BookingStatus(booking.status)
        if (current, to) not in TRANSITIONS:
            raise InvalidTransition(
                f"booking {booking.booking_id}: {current} → {to} is not allowed"
            )
        if not await self._journal(session, booking, current, to, event):
            return  # replay of an event already applied
        await self.bookings.set_status(session, booking, to)
        emitted = TRANSITIONS[(current, to)]
        if emitted is not None:
            payment = payment or await self.payments.latest_for_booking(session, booking.booking_id)
            types = await self.documents.types_for(session, booking.booking_id)
            snapshot = booking_snapshot(booking, payment, types)
            await self.outbox.add(
                session,
                Envelope.new(
                    emitted,
                    booking_id=booking.booking_id,
                    producer=SERVICE,
                    data=snapshot,
                    cause=event,
                ),
            )

    async def _journal(
        self,
        session: AsyncSession,
        booking: Booking,
        current: BookingStatus | None,
        to: BookingStatus,
        event: Envelope,
    ) -> bool:
        return await self.bookings.record_transition(
            session,
            BookingTransition(
                booking_id=booking.booking_id,
                from_status=current,
                to_status=to,
                idempotency_key=idempotency_key(event),
                event_id=event.event_id,
                event_type=event.type,
            ),
        )


def booking_snapshot(
    booking: Booking, payment: Payment | None, document_types: set[str]
) -> dict[str, Any]:
    """Event-carried state: everything documents needs, so it never queries lifecycle."""
    return {
        "booking_id": booking.booking_id,
        "status": booking.status,
        "customer": booking.customer,
        "total_amount": booking.total_amount,
        "currency": booking.currency,
        "items": booking.items,
        "travellers": booking.travellers,
        "supplier": {**booking.supplier, "ref": booking.supplier_ref},
        "itinerary": booking.itinerary,
        "payment": (
            {
                "provider": payment.provider,
                "payment_id": payment.payment_id,
                "amount": payment.amount,
                "currency": payment.currency,
            }
            if payment
            else None
        ),
        "documents": sorted(document_types),
    }
