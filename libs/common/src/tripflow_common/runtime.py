"""One service process: database, migrations, broker, outbox relay, heartbeat, readiness.

Start-up never crashes in a loop: an unreachable database or broker is logged with
where we looked, retried with backoff, and shown on `/readyz` until it answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy import text

from tripflow_common.db.engine import create_engine, create_session_factory
from tripflow_common.db.migrations import upgrade_schema
from tripflow_common.messaging.broker import ensure_topics
from tripflow_common.messaging.outbox import OutboxRelay
from tripflow_common.ops import record_heartbeat
from tripflow_common.settings import CommonSettings

log = logging.getLogger(__name__)

BackgroundTask = Callable[["ServiceRuntime"], Awaitable[None]]


class ServiceRuntime:
    def __init__(
        self,
        *,
        name: str,
        settings: CommonSettings,
        schema: str,
        migrations: str,
        broker: KafkaBroker | None = None,
        relay: bool = True,
        background: list[BackgroundTask] | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.schema = schema
        self.migrations = migrations
        self.broker = broker
        self.engine = create_engine(settings)
        self.session_factory = create_session_factory(self.engine)
        self.relay = (
            OutboxRelay(
                engine=self.engine,
                schema=schema,
                bootstrap=settings.kafka_bootstrap,
                dsn=settings.plain_database_url,
                namespace=settings.kafka_namespace,
                batch_size=settings.outbox_batch_size,
                poll_interval=settings.outbox_poll_interval_seconds,
            )
            if relay
            else None
        )
        self.background = background or []
        self.started = False
        self.boot_error: dict[str, str] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._broker_started = False

    # -- start and stop ---------------------------------------------------------------
    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._boot(), name=f"{self.name}-boot"))

    async def wait_started(self, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while not self.started:
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.broker is not None and self._broker_started:
            await self.broker.stop()
        await self.engine.dispose()

    async def _boot(self) -> None:
        await self._until_ok("database", self.settings.database_target, self._prepare_database)
        if self.broker is not None:
            await self._until_ok("kafka", self.settings.kafka_bootstrap, self._start_broker)
        if self.relay is not None:
            self._spawn(self.relay.run(), "outbox-relay")
        self._spawn(self._heartbeat_loop(), "heartbeat")
        for task in self.background:
            self._spawn(task(self), task.__name__)
        self.started = True
        log.info("service started", extra={"service_name": self.name})

    def _spawn(self, coro: Awaitable[Any], label: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"{self.name}-{label}"))  # type: ignore[arg-type]

    async def _until_ok(self, what: str, target: str, step: Callable[[], Awaitable[None]]) -> None:
        delay = 0.5
        while True:
            try:
                await step()
                self.boot_error.pop(what, None)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.boot_error[what] = f"{type(exc).__name__} at {target}"
                log.error(
                    f"{what} not reachable at {target}; retrying in {delay:.1f}s",
                    extra={"dependency": what, "target": target, "error_type": type(exc).__name__},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)

    async def _prepare_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await upgrade_schema(self.engine, "ops", "tripflow_common:migrations")
        await upgrade_schema(self.engine, self.schema, self.migrations)

    async def _start_broker(self) -> None:
        assert self.broker is not None
        await ensure_topics(
            self.settings.kafka_bootstrap,
            self.settings.topic_partitions,
            namespace=self.settings.kafka_namespace,
        )
        try:
            await self.broker.start()
        except BaseException:
            await self.broker.stop()
            raise
        self._broker_started = True

    async def _heartbeat_loop(self) -> None:
        interval = self.settings.heartbeat_interval_seconds
        while True:
            await record_heartbeat(
                self.session_factory,
                f"service:{self.name}",
                threshold_seconds=int(interval * 4),
                details={"outbox_error": self.relay.last_error if self.relay else None},
            )
            await asyncio.sleep(interval)

    # -- readiness --------------------------------------------------------------------
    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {}
        try:
            async with asyncio.timeout(2):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            checks["database"] = {"ok": True, "target": self.settings.database_target}
        except Exception as exc:
            checks["database"] = {
                "ok": False,
                "target": self.settings.database_target,
                "error": type(exc).__name__,
            }
        if self.broker is not None or self.relay is not None:
            kafka_ok = False
            if self.broker is not None and self._broker_started:
                try:
                    kafka_ok = await self.broker.ping(timeout=2)
                except Exception:
                    kafka_ok = False
            elif self.broker is None:
                kafka_ok = self.relay is not None and self.relay.last_error is None
            checks["kafka"] = {"ok": kafka_ok, "target": self.settings.kafka_bootstrap}
        if self.relay is not None:
            checks["outbox"] = {"ok": self.relay.last_error is None, "error": self.relay.last_error}
        checks["started"] = {"ok": self.started, "waiting_for": dict(self.boot_error)}
        ok = all(c["ok"] for c in checks.values())
        return ok, checks
