"""gateway schema: webhook_events, outbox, processed_events.

Revision ID: gateway_0001
"""

from alembic import op

from tripflow_common.messaging.schema import outbox_inbox_ddl

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE gateway.webhook_events (
            id UUID PRIMARY KEY,
            provider TEXT NOT NULL,
            event_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            booking_id TEXT,
            outcome TEXT NOT NULL,
            payload JSONB NOT NULL,
            published_event_id UUID,
            received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT webhook_events_provider_event_uq UNIQUE (provider, event_id)
        )"""
    )
    op.execute("CREATE INDEX webhook_events_booking_idx ON gateway.webhook_events (booking_id)")
    for statement in outbox_inbox_ddl("gateway"):
        op.execute(statement)
