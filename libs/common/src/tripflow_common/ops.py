"""Heartbeats and system logs in the shared `ops` schema."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tripflow_common.db.engine import SessionFactory, unit_of_work
from tripflow_common.logging import redact

log = logging.getLogger(__name__)


class OpsRepository:
    async def write_heartbeat(
        self,
        session: AsyncSession,
        name: str,
        *,
        threshold_seconds: int,
        status: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        await (await session.connection()).execute(
            text(
                "INSERT INTO ops.system_heartbeats (name, last_seen_at, threshold_seconds, status, details) "
                "VALUES (:n, now(), :t, :s, CAST(:d AS JSONB)) "
                "ON CONFLICT (name) DO UPDATE SET last_seen_at = now(), threshold_seconds = :t, "
                "status = :s, details = CAST(:d AS JSONB)"
            ),
            {"n": name, "t": threshold_seconds, "s": status, "d": json.dumps(details or {})},
        )

    async def write_log(
        self,
        session: AsyncSession,
        *,
        source: str,
        level: str,
        message: str,
        context: dict[str, Any] | None = None,
    ) -> None:
        await (await session.connection()).execute(
            text(
                "INSERT INTO ops.system_logs (level, source, message, context) "
                "VALUES (:l, :s, :m, CAST(:c AS JSONB))"
            ),
            {
                "l": level,
                "s": source,
                "m": message,
                "c": json.dumps(redact(context or {}), default=str),
            },
        )

    async def heartbeats(self, session: AsyncSession) -> list[dict[str, Any]]:
        rows = await (await session.connection()).execute(
            text(
                "SELECT name, last_seen_at, threshold_seconds, status, details, "
                "EXTRACT(EPOCH FROM now() - last_seen_at) AS age_seconds "
                "FROM ops.system_heartbeats ORDER BY name"
            )
        )
        return [dict(r._mapping) for r in rows]

    async def last_heartbeat(self, session: AsyncSession, name: str) -> datetime | None:
        return (
            await (await session.connection()).execute(
                text("SELECT last_seen_at FROM ops.system_heartbeats WHERE name = :n"), {"n": name}
            )
        ).scalar_one_or_none()


async def record_heartbeat(
    factory: SessionFactory,
    name: str,
    *,
    threshold_seconds: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Write a heartbeat; if that fails, a `system_logs` row instead; never raises."""
    repo = OpsRepository()
    try:
        async with unit_of_work(factory) as session:
            await repo.write_heartbeat(
                session, name, threshold_seconds=threshold_seconds, details=details
            )
        return
    except Exception as exc:
        log.warning(
            "heartbeat not written", extra={"heartbeat": name, "error_type": type(exc).__name__}
        )
    try:
        async with unit_of_work(factory) as session:
            await repo.write_log(
                session,
                source=name,
                level="warning",
                message="heartbeat fallback",
                context={"heartbeat": name, **(details or {})},
            )
    except Exception as exc:
        log.warning(
            "heartbeat fallback log not written",
            extra={"heartbeat": name, "error_type": type(exc).__name__},
        )
