"""Running services in tests: in-process (ASGI, with lifespan) or as real processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from tripflow_cli.services import (
    SERVICES,
    RunningService,
    ServiceSpec,
    start_service,
    stop_services,
    wait_ready,
)

T = TypeVar("T")


@contextlib.asynccontextmanager
async def running_app(app: FastAPI, timeout: float = 60.0) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (database, migrations, broker, relay) and hand out a client."""
    async with app.router.lifespan_context(app):
        await app.state.runtime.wait_started(timeout)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spec(name: str) -> ServiceSpec:
    return next(s for s in SERVICES if s.name == name)


class ServiceProcesses:
    """Real service processes for end-to-end and crash tests; stopped at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[RunningService] = []

    def start(
        self, name: str, *, instance: str = "", env: dict[str, str] | None = None, wait: bool = True
    ) -> RunningService:
        svc = start_service(
            spec(name), env=env or {}, log_dir=self.log_dir, port=free_port(), instance=instance
        )
        self.running.append(svc)
        if wait:
            failed = wait_ready([svc], timeout=90)
            if failed:
                raise RuntimeError(
                    f"{name} did not become ready; log: {svc.log.read_text()[-3000:]}"
                )
        return svc

    def kill(self, svc: RunningService) -> None:
        svc.proc.kill()
        svc.proc.wait()

    def stop_all(self) -> None:
        stop_services(self.running)


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = 30.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Poll until `check` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last  # type: ignore[no-any-return]
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def env_snapshot(keys: list[str]) -> dict[str, str]:
    return {k: os.environ[k] for k in keys if k in os.environ}
