"""Which booking events make which documents, each exactly once."""

from __future__ import annotations

import hashlib
import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from tripflow_common.events import Envelope, Topic
from tripflow_common.messaging.outbox import OutboxRepository
from tripflow_documents import SCHEMA, SERVICE
from tripflow_documents.documents.errors import DocumentNotFound
from tripflow_documents.documents.models import Document, DocumentType
from tripflow_documents.documents.pdf import RENDERERS
from tripflow_documents.documents.repository import DocumentRepository
from tripflow_documents.documents.schemas import BookingSnapshot

DOCUMENTS_FOR_EVENT: dict[str, tuple[DocumentType, ...]] = {
    Topic.BOOKING_PAYMENT_CONFIRMED: (DocumentType.INVOICE,),
    Topic.BOOKING_SUPPLIER_CONFIRMED: (DocumentType.VOUCHER, DocumentType.ITINERARY),
}


class DocumentService:
    def __init__(self) -> None:
        self.documents = DocumentRepository()
        self.outbox = OutboxRepository(SCHEMA)

    async def handle(self, session: AsyncSession, event: Envelope) -> list[Document]:
        """Generate the documents this event calls for; emit `documents.generated` for new ones."""
        types = DOCUMENTS_FOR_EVENT.get(event.type, ())
        if not types:
            return []
        booking = BookingSnapshot.model_validate(event.data)
        created: list[Document] = []
        for doc_type in types:
            content = RENDERERS[doc_type](booking)
            document = Document(
                booking_id=booking.booking_id,
                type=doc_type,
                filename=f"{booking.booking_id}-{doc_type}.pdf",
                content=content,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                source_event_id=event.event_id,
            )
            if await self.documents.insert_if_new(session, document):
                created.append(document)
        if created:
            await self.outbox.add(
                session,
                Envelope.new(
                    Topic.DOCUMENTS_GENERATED,
                    booking_id=booking.booking_id,
                    producer=SERVICE,
                    data={
                        "documents": [
                            {"id": str(d.id), "type": d.type, "sha256": d.sha256} for d in created
                        ]
                    },
                    cause=event,
                ),
            )
        return created

    async def get(self, session: AsyncSession, document_id: uuid.UUID) -> Document:
        document = await self.documents.get(session, document_id)
        if document is None:
            raise DocumentNotFound(f"document {document_id} not found")
        return document

    async def list_for_booking(self, session: AsyncSession, booking_id: str) -> list[Document]:
        return await self.documents.for_booking(session, booking_id)
