"""The five services as processes: start, watch readiness, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port_setting: str
    default_port: int
    schema: str
    migrations: str


SERVICES = [
    ServiceSpec(
        "webhook-gateway",
        "tripflow_gateway",
        "TRIPFLOW_PORT",
        8001,
        "gateway",
        "tripflow_gateway:migrations",
    ),
    ServiceSpec(
        "lifecycle",
        "tripflow_lifecycle",
        "TRIPFLOW_PORT",
        8002,
        "lifecycle",
        "tripflow_lifecycle:migrations",
    ),
    ServiceSpec(
        "documents",
        "tripflow_documents",
        "TRIPFLOW_PORT",
        8003,
        "documents",
        "tripflow_documents:migrations",
    ),
    ServiceSpec(
        "retry", "tripflow_retry", "TRIPFLOW_PORT", 8004, "retry", "tripflow_retry:migrations"
    ),
    ServiceSpec(
        "admin-api", "tripflow_admin", "TRIPFLOW_PORT", 8005, "admin", "tripflow_admin:migrations"
    ),
]


class RunningService:
    def __init__(
        self, spec: ServiceSpec, proc: subprocess.Popen[bytes], port: int, log: Path
    ) -> None:
        self.spec = spec
        self.proc = proc
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def start_service(
    spec: ServiceSpec,
    *,
    env: dict[str, str],
    log_dir: Path,
    port: int | None = None,
    instance: str = "",
) -> RunningService:
    port = port or spec.default_port
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{spec.name}{instance}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", spec.module],
            env={**os.environ, **env, "TRIPFLOW_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return RunningService(spec, proc, port, log)


def wait_ready(services: list[RunningService], timeout: float = 120.0) -> list[RunningService]:
    """Wait until every service answers /readyz; returns those that did not (dead or slow)."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending and time.monotonic() < deadline:
        pending = [s for s in pending if s.proc.poll() is None and not s.ready()]
        if any(s.proc.poll() is not None for s in services):
            break
        time.sleep(0.3)
    return [s for s in services if s.proc.poll() is not None or not s.ready()]


def stop_services(services: list[RunningService], timeout: float = 20.0) -> None:
    for s in services:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for s in services:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            s.proc.wait(remaining)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()
