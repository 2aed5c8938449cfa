"""documents schema: documents (unique per booking and type), outbox, inbox.

Revision ID: documents_0001
"""

from alembic import op

from tripflow_common.messaging.schema import outbox_inbox_ddl

revision = "documents_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE documents.documents (
            id UUID PRIMARY KEY,
            booking_id TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('invoice', 'voucher', 'itinerary')),
            filename TEXT NOT NULL,
            content BYTEA NOT NULL,
            size_bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            source_event_id UUID NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT documents_booking_type_uq UNIQUE (booking_id, type)
        )"""
    )
    for statement in outbox_inbox_ddl("documents"):
        op.execute(statement)
