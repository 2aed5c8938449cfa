"""lifecycle schema: bookings, payments, booking_transitions, booking_documents, outbox, inbox.

Revision ID: lifecycle_0001
"""

from alembic import op

from tripflow_common.messaging.schema import outbox_inbox_ddl

revision = "lifecycle_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE lifecycle.bookings (
            booking_id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN
                ('pending_payment', 'payment_confirmed', 'supplier_confirmed', 'fulfilled')),
            customer JSONB NOT NULL,
            total_amount BIGINT NOT NULL,
            currency CHAR(3) NOT NULL,
            items JSONB NOT NULL,
            travellers JSONB NOT NULL,
            supplier JSONB NOT NULL,
            itinerary JSONB NOT NULL,
            supplier_ref TEXT,
            correlation_id TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX bookings_status_idx ON lifecycle.bookings (status)")
    op.execute(
        """
        CREATE TABLE lifecycle.payments (
            id UUID PRIMARY KEY,
            booking_id TEXT NOT NULL REFERENCES lifecycle.bookings (booking_id),
            webhook_event_id TEXT NOT NULL UNIQUE,
            provider TEXT NOT NULL,
            provider_event_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            amount BIGINT NOT NULL,
            currency CHAR(3) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX payments_booking_idx ON lifecycle.payments (booking_id)")
    op.execute(
        """
        CREATE TABLE lifecycle.booking_transitions (
            id BIGSERIAL PRIMARY KEY,
            booking_id TEXT NOT NULL REFERENCES lifecycle.bookings (booking_id),
            from_status TEXT,
            to_status TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            event_id UUID NOT NULL,
            event_type TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        "CREATE INDEX booking_transitions_booking_idx ON lifecycle.booking_transitions (booking_id)"
    )
    op.execute(
        """
        CREATE TABLE lifecycle.booking_documents (
            booking_id TEXT NOT NULL REFERENCES lifecycle.bookings (booking_id),
            type TEXT NOT NULL,
            document_id UUID NOT NULL,
            sha256 TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (booking_id, type)
        )"""
    )
    for statement in outbox_inbox_ddl("lifecycle"):
        op.execute(statement)
