"""Internal routes (X-Internal-Key): list a booking's documents and download a PDF."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response

from tripflow_common.db.engine import unit_of_work
from tripflow_common.errors import Unauthorized
from tripflow_common.runtime import ServiceRuntime
from tripflow_common.web.app import internal_key_ok
from tripflow_documents.documents.service import DocumentService


def build_router(runtime: ServiceRuntime) -> APIRouter:
    service = DocumentService()

    async def require_internal_key(x_internal_key: str | None = Header(default=None)) -> None:
        if not internal_key_ok(x_internal_key, runtime.settings.internal_keys):
            raise Unauthorized("a valid X-Internal-Key header is required")

    router = APIRouter(
        prefix="/api/internal/documents", dependencies=[Depends(require_internal_key)]
    )

    @router.get("")
    async def list_documents(booking_id: str) -> list[dict[str, Any]]:
        async with unit_of_work(runtime.session_factory) as session:
            docs = await service.list_for_booking(session, booking_id)
        return [
            {
                "id": str(d.id),
                "booking_id": d.booking_id,
                "type": d.type,
                "filename": d.filename,
                "size_bytes": d.size_bytes,
                "sha256": d.sha256,
                "created_at": d.created_at,
            }
            for d in docs
        ]

    @router.get("/{document_id}/pdf")
    async def download_document(document_id: uuid.UUID) -> Response:
        async with unit_of_work(runtime.session_factory) as session:
            doc = await service.get(session, document_id)
        return Response(
            doc.content,
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{doc.filename}"'},
        )

    return router
