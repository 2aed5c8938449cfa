"""Alembic, one version table per schema, run by every service on start under a lock."""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATION_LOCK = 7_461_001  # pg_advisory_xact_lock key shared by every service's migrations


def _config(script_location: str, schema: str, connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["connection"] = connection
    cfg.attributes["schema"] = schema
    return cfg


def run_env() -> None:
    """Body of every service's `migrations/env.py`: online mode on the connection we hand over."""
    connection: Connection = context.config.attributes["connection"]
    schema: str = context.config.attributes["schema"]
    context.configure(
        connection=connection,
        version_table_schema=schema,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def upgrade_schema(engine: AsyncEngine, schema: str, script_location: str) -> None:
    """Create the schema if needed and bring it to head; safe to run from many processes at once."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(_config(script_location, schema, connection), "head")

    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(_upgrade)
