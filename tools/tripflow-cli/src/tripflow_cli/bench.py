"""`tripflow bench`: figures, measured against a baseline in the same run.

- webhooks: signed Stripe webhooks per second through the real gateway (verify, dedupe row,
  outbox row, one commit) next to a bare FastAPI endpoint doing one INSERT and commit.
- flow: bookings per second from booking.created to fulfilled with one and with two
  instances of each consumer (lifecycle, documents).
Each run uses a database and a Kafka namespace of its own on the configured infrastructure.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tripflow_cli.bookings import booking_created, publish_events, sample_booking
from tripflow_cli.services import RunningService, start_service, stop_services, wait_ready
from tripflow_cli.signing import stripe_headers, stripe_payment_body
from tripflow_cli.testing.apps import free_port, spec
from tripflow_cli.testing.factories import payment_event, supplier_event
from tripflow_cli.testing.infra import create_database, drop_database, session_names
from tripflow_common.messaging.broker import ensure_topics
from tripflow_common.settings import CommonSettings

console = Console()
STRIPE_SECRET = "whsec_bench_" + "0" * 32


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return statistics.quantiles(self.latencies, n=100)[int(q) - 1] * 1000


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def _drive(
    name: str,
    url: str,
    make: Callable[[int], tuple[bytes, dict[str, str]]],
    total: int,
    concurrency: int,
    progress: Progress,
) -> LoadResult:
    task = progress.add_task(name, total=total)
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    async with httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(max_connections=concurrency)
    ) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                body, headers = make(i)
                t = time.perf_counter()
                r = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1
                progress.advance(task)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return LoadResult(name, total, seconds, latencies, errors)


class BenchEnvironment:
    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self.database, self.namespace = session_names()
        self.env: dict[str, str] = {}
        self.procs: list[RunningService] = []
        self.log_dir = Path(".tripflow") / "bench-logs"

    async def __aenter__(self) -> BenchEnvironment:
        url = await create_database(
            self.settings.database_url, self.database.replace("test", "bench")
        )
        self.env = {
            "TRIPFLOW_DATABASE_URL": url,
            "TRIPFLOW_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "TRIPFLOW_KAFKA_NAMESPACE": self.namespace,
            "TRIPFLOW_ENV": "test",
            "TRIPFLOW_LOG_LEVEL": "WARNING",
            "TRIPFLOW_STRIPE_WEBHOOK_SECRETS": STRIPE_SECRET,
            "TRIPFLOW_STANDARD_WEBHOOK_SECRETS": "whsec_" + "A" * 32,
            "TRIPFLOW_SUPPLIER_WEBHOOK_SECRETS": "whsec_" + "B" * 32,
            "TRIPFLOW_INTERNAL_KEYS": "bench",
        }
        await ensure_topics(
            self.settings.kafka_bootstrap, self.settings.topic_partitions, namespace=self.namespace
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        stop_services(self.procs)
        await drop_database(self.settings.database_url, self.database.replace("test", "bench"))

    def start(self, name: str, instance: str = "") -> RunningService:
        svc = start_service(
            spec(name), env=self.env, log_dir=self.log_dir, port=free_port(), instance=instance
        )
        self.procs.append(svc)
        return svc

    def start_gateway_and_baseline(self) -> tuple[RunningService, RunningService]:
        gateway = self.start("webhook-gateway")
        baseline = self.start_baseline()
        if wait_ready([gateway, baseline]):
            raise SystemExit("bench: a service did not become ready; see .tripflow/bench-logs/")
        return gateway, baseline

    def start_baseline(self) -> RunningService:
        port = free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / "baseline.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tripflow_cli.bench_baseline"],
                env={**__import__("os").environ, **self.env, "TRIPFLOW_PORT": str(port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        svc = RunningService(spec("webhook-gateway"), proc, port, log)
        self.procs.append(svc)
        return svc


WRK_SCRIPT = Path(__file__).parent / "bench_assets" / "replay.lua"


def _wrk(
    url: str, requests_file: Path, seconds: int, concurrency: int
) -> tuple[float, float, float, int]:
    """Run wrk (a C load generator: the client costs little CPU next to the server) once.

    Returns requests/s, p50 ms, p99 ms and non-2xx responses.
    """
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            str(requests_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def grab(pattern: str) -> str:
        match = re.search(pattern, out, re.MULTILINE)
        if not match:
            raise SystemExit(f"bench: could not read wrk output:\n{out}")
        return match.group(1)

    def millis(value: str) -> float:
        match = re.match(r"([\d.]+)(us|ms|s)", value)
        assert match, value
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    errors = int(grab(r"Non-2xx or 3xx responses: (\d+)")) if "Non-2xx" in out else 0
    return (
        float(grab(r"^Requests/sec:\s+([\d.]+)")),
        millis(grab(r"^\s+50%\s+(\S+)")),
        millis(grab(r"^\s+99%\s+(\S+)")),
        errors,
    )


async def bench_webhooks_wrk(settings: CommonSettings, seconds: int, concurrency: int) -> None:
    """Accepted webhooks per second next to one INSERT + commit, both driven by wrk."""
    async with BenchEnvironment(settings) as bench:
        gateway, baseline = bench.start_gateway_and_baseline()
        run = time.strftime("%H%M%S")
        work = bench.log_dir / "requests"
        work.mkdir(parents=True, exist_ok=True)
        # More distinct, freshly signed webhooks than a run can send: each one is a new event.
        count = max(20_000, seconds * 3_000)
        rows = []
        for i in range(count):
            body = stripe_payment_body(
                f"BK-BENCH-{run}-{i}", 10_000, "EUR", event_id=f"evt_bench_{run}_{i}"
            )
            rows.append(
                stripe_headers(body, STRIPE_SECRET)["stripe-signature"] + "\t" + body.decode()
            )
        signed = work / "signed.tsv"
        signed.write_text("\n".join(rows) + "\n")
        plain = work / "plain.tsv"
        plain.write_text("\n".join("\t" + r.split("\t", 1)[1] for r in rows) + "\n")
        figures = {}
        for name, url, file in (
            ("baseline: INSERT + commit", f"{baseline.url}/insert", plain),
            ("gateway: signed webhook", f"{gateway.url}/api/payments/webhook", signed),
        ):
            console.print(f"wrk: {name}, {seconds}s, {concurrency} connections …")
            figures[name] = _wrk(url, file, seconds, concurrency)
        db = await asyncpg.connect(bench.env["TRIPFLOW_DATABASE_URL"])
        try:
            accepted = await db.fetchval(
                "SELECT count(*) FROM gateway.webhook_events WHERE event_id LIKE $1",
                f"evt_bench_{run}_%",
            )
            drain_start = time.perf_counter()
            while await db.fetchval("SELECT count(*) FROM gateway.outbox WHERE sent_at IS NULL"):
                await asyncio.sleep(0.1)
            drain = time.perf_counter() - drain_start
        finally:
            await db.close()
    table = Table("endpoint (wrk)", "req/s", "p50 ms", "p99 ms", "non-2xx")
    for name, (rate, p50, p99, errors) in figures.items():
        table.add_row(name, f"{rate:,.0f}", f"{p50:.1f}", f"{p99:.1f}", str(errors))
    console.print(table)
    gw, base = figures["gateway: signed webhook"][0], figures["baseline: INSERT + commit"][0]
    console.print(
        f"gateway/baseline: {gw / base:.2f}; webhooks recorded: {accepted}; "
        f"outbox drained {drain:.2f}s after the run ended"
    )


async def bench_webhooks(
    settings: CommonSettings, total: int, concurrency: int
) -> list[LoadResult]:
    async with BenchEnvironment(settings) as bench:
        gateway, baseline = bench.start_gateway_and_baseline()
        run = time.strftime("%H%M%S")

        def webhook(i: int) -> tuple[bytes, dict[str, str]]:
            body = stripe_payment_body(
                f"BK-BENCH-{run}-{i}", 10_000, "EUR", event_id=f"evt_bench_{run}_{i}"
            )
            return body, stripe_headers(body, STRIPE_SECRET)

        def plain(i: int) -> tuple[bytes, dict[str, str]]:
            body = stripe_payment_body(f"BK-BENCH-{run}-{i}", 10_000, "EUR")
            return body, {"content-type": "application/json"}

        results = []
        with _progress() as progress:
            # Warm both up, then measure the baseline and the gateway alternately.
            await _drive(
                "warm-up baseline", f"{baseline.url}/insert", plain, 200, concurrency, progress
            )
            await _drive(
                "warm-up gateway",
                f"{gateway.url}/api/payments/webhook",
                lambda i: webhook(10_000_000 + i),
                200,
                concurrency,
                progress,
            )
            results.append(
                await _drive(
                    "baseline: INSERT + commit",
                    f"{baseline.url}/insert",
                    plain,
                    total,
                    concurrency,
                    progress,
                )
            )
            results.append(
                await _drive(
                    "gateway: signed webhook",
                    f"{gateway.url}/api/payments/webhook",
                    webhook,
                    total,
                    concurrency,
                    progress,
                )
            )
        db = await asyncpg.connect(bench.env["TRIPFLOW_DATABASE_URL"])
        try:
            lag_start = time.perf_counter()
            while await db.fetchval("SELECT count(*) FROM gateway.outbox WHERE sent_at IS NULL"):
                await asyncio.sleep(0.1)
            drain = time.perf_counter() - lag_start
            accepted = await db.fetchval(
                "SELECT count(*) FROM gateway.webhook_events WHERE event_id LIKE $1",
                f"evt_bench_{run}_%",
            )
        finally:
            await db.close()
    table = Table("endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors")
    for r in results:
        table.add_row(
            r.name,
            str(r.requests),
            f"{r.rate:,.0f}",
            f"{r.pct(50):.1f}",
            f"{r.pct(99):.1f}",
            str(r.errors),
        )
    console.print(table)
    console.print(
        f"gateway/baseline throughput: {results[1].rate / results[0].rate:.2f}; "
        f"webhook rows: {accepted}; outbox drained {drain:.2f}s after the last response; "
        f"concurrency {concurrency}"
    )
    return results


async def _wait_count(db: asyncpg.Connection, sql: str, like: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await db.fetchval(sql, like) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {n}: {sql}")
        await asyncio.sleep(0.05)


async def bench_flow_once(
    settings: CommonSettings, bookings: int, instances: int
) -> dict[str, float]:
    async with BenchEnvironment(settings) as bench:
        procs = []
        for i in range(instances):
            procs += [
                bench.start("lifecycle", instance=f"-{i}"),
                bench.start("documents", instance=f"-{i}"),
            ]
        if wait_ready(procs):
            raise SystemExit("bench: a service did not become ready; see .tripflow/bench-logs/")
        await asyncio.sleep(2)  # let the consumer groups settle their assignments
        prefix = f"BK-FLOW-{time.strftime('%H%M%S')}"
        ids = [f"{prefix}-{i:05d}" for i in range(bookings)]
        like = f"{prefix}-%"
        db = await asyncpg.connect(bench.env["TRIPFLOW_DATABASE_URL"])
        ns, bootstrap = bench.namespace, settings.kafka_bootstrap
        phases: dict[str, float] = {}
        # Each phase: publish one event per booking, wait until every booking shows its effect.
        steps = [
            (
                "created",
                [booking_created(sample_booking(b, 100_000)) for b in ids],
                "SELECT count(*) FROM lifecycle.bookings WHERE booking_id LIKE $1",
            ),
            (
                "paid + invoice",
                [payment_event(b, 100_000) for b in ids],
                "SELECT count(*) FROM documents.documents WHERE booking_id LIKE $1",
            ),
            (
                "confirmed + voucher + itinerary + fulfilled",
                [supplier_event(b) for b in ids],
                "SELECT count(*) FROM lifecycle.bookings WHERE booking_id LIKE $1 "
                "AND status = 'fulfilled'",
            ),
        ]
        try:
            start = time.perf_counter()
            for name, events, effect_sql in steps:
                t = time.perf_counter()
                await publish_events(bootstrap, events, ns)
                await _wait_count(db, effect_sql, like, bookings, 300)
                phases[name] = time.perf_counter() - t
            phases["total"] = time.perf_counter() - start
        finally:
            await db.close()
        return phases


async def bench_flow(settings: CommonSettings, bookings: int) -> None:
    results = {}
    for instances in (1, 2):
        console.print(
            f"flow: {bookings} bookings, {instances} instance(s) of lifecycle and documents …"
        )
        results[instances] = await bench_flow_once(settings, bookings, instances)
    table = Table("phase", "1 instance: s", "bookings/s", "2 instances: s", "bookings/s")
    for phase in results[1]:
        a, b = results[1][phase], results[2][phase]
        table.add_row(phase, f"{a:.2f}", f"{bookings / a:,.1f}", f"{b:.2f}", f"{bookings / b:,.1f}")
    console.print(table)
