"""ops schema: heartbeats and system logs.

Revision ID: ops_0001
"""

from alembic import op

revision = "ops_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ops.system_heartbeats (
            name TEXT PRIMARY KEY,
            last_seen_at TIMESTAMPTZ NOT NULL,
            threshold_seconds INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'ok',
            details JSONB NOT NULL DEFAULT '{}'::jsonb
        )"""
    )
    op.execute(
        """
        CREATE TABLE ops.system_logs (
            id BIGSERIAL PRIMARY KEY,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            level TEXT NOT NULL,
            source TEXT NOT NULL,
            message TEXT NOT NULL,
            context JSONB NOT NULL DEFAULT '{}'::jsonb
        )"""
    )
    op.execute("CREATE INDEX system_logs_created_idx ON ops.system_logs (created_at DESC)")
