from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tripflow_documents.documents.models import Document


class DocumentRepository:
    async def insert_if_new(self, session: AsyncSession, document: Document) -> bool:
        """One document per (booking, type): a second insert is a no-op, False."""
        values = document.model_dump(exclude={"created_at"})
        result = await session.exec(
            insert(Document)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["booking_id", "type"])
            .returning(col(Document.id))
        )
        return result.first() is not None

    async def get(self, session: AsyncSession, document_id: uuid.UUID) -> Document | None:
        return await session.get(Document, document_id)

    async def for_booking(self, session: AsyncSession, booking_id: str) -> list[Document]:
        result = await session.exec(
            select(Document)
            .where(Document.booking_id == booking_id)
            .order_by(col(Document.created_at))
        )
        return list(result.all())
