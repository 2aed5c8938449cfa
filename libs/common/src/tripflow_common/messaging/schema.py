"""DDL of the outbox and inbox tables each service keeps in its own schema."""

from __future__ import annotations


def outbox_inbox_ddl(schema: str) -> list[str]:
    """Statements for `<schema>.outbox` (with its NOTIFY trigger) and `<schema>.processed_events`."""
    return [
        f"""
        CREATE TABLE "{schema}".outbox (
            id BIGSERIAL PRIMARY KEY,
            event_id UUID NOT NULL UNIQUE,
            topic TEXT NOT NULL,
            key TEXT NOT NULL,
            payload TEXT NOT NULL,
            headers JSONB NOT NULL DEFAULT '{{}}'::jsonb,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            sent_at TIMESTAMPTZ
        )""",
        f'CREATE INDEX outbox_unsent_idx ON "{schema}".outbox (id) WHERE sent_at IS NULL',
        f"""
        CREATE FUNCTION "{schema}".notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{schema}_outbox', '');
            RETURN NULL;
        END $$""",
        f"""
        CREATE TRIGGER outbox_notify AFTER INSERT ON "{schema}".outbox
        FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".notify_outbox()""",
        f"""
        CREATE TABLE "{schema}".processed_events (
            consumer_group TEXT NOT NULL,
            event_id UUID NOT NULL,
            event_type TEXT NOT NULL,
            processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer_group, event_id)
        )""",
    ]


def outbox_channel(schema: str) -> str:
    return f"{schema}_outbox"
