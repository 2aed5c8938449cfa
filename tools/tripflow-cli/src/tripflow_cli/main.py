"""`tripflow`: infra, up, migrate, demo, test."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tripflow_cli.infra import InfraError, Kafka, Postgres, Status, repo_root
from tripflow_common.settings import CommonSettings

console = Console()


def _settings() -> CommonSettings:
    return CommonSettings()


def _print_status(rows: list[Status]) -> None:
    table = Table("component", "state", "where", "started by tripflow", "detail")
    for s in rows:
        table.add_row(
            s.name,
            "[green]up[/]" if s.running else "[red]down[/]",
            s.where,
            "yes" if s.owned else "no",
            s.detail,
        )
    console.print(table)


def infra_up(settings: CommonSettings) -> list[Status]:
    return [
        Postgres(settings.database_url).up(),
        Kafka(settings.kafka_bootstrap, settings.topic_partitions).up(),
    ]


def cmd_infra(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.action == "up":
        _print_status(infra_up(settings))
    elif args.action == "down":
        _print_status(
            [Kafka(settings.kafka_bootstrap).down(), Postgres(settings.database_url).down()]
        )
    else:
        _print_status(
            [Postgres(settings.database_url).status(), Kafka(settings.kafka_bootstrap).status()]
        )
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from tripflow_cli.services import SERVICES
    from tripflow_common.db.engine import create_engine
    from tripflow_common.db.migrations import upgrade_schema

    async def _run() -> None:
        engine = create_engine(_settings())
        try:
            await upgrade_schema(engine, "ops", "tripflow_common:migrations")
            for spec in SERVICES:
                await upgrade_schema(engine, spec.schema, spec.migrations)
                console.print(f"migrated schema [bold]{spec.schema}[/]")
        finally:
            await engine.dispose()

    asyncio.run(_run())
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from tripflow_cli.dotenv import ensure_dotenv
    from tripflow_cli.services import SERVICES, start_service, stop_services, wait_ready

    if ensure_dotenv(Path(".env")):
        console.print("wrote [bold].env[/] with random development secrets")
    settings = _settings()
    started_here: list[Status] = []
    if not args.no_infra:
        statuses = infra_up(settings)
        _print_status(statuses)
        started_here = [s for s in statuses if s.detail.startswith("started")]
    log_dir = Path(".tripflow") / "logs"
    busy = {spec.name: port_owner(spec.default_port) for spec in SERVICES}
    if all(owner == spec.name for spec, owner in zip(SERVICES, busy.values(), strict=True)):
        console.print("tripflow is already up (every service answers on its port); nothing to do")
        return 0
    taken = [
        f"{spec.default_port} ({busy[spec.name] or 'something else'})"
        for spec in SERVICES
        if busy[spec.name] is not False
    ]
    if taken:
        console.print(f"[red]ports already in use: {', '.join(taken)}; stop that first[/]")
        return 1
    running = [start_service(spec, env={}, log_dir=log_dir) for spec in SERVICES]
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    not_ready = wait_ready(running)
    table = Table("service", "listens on", "state", "log")
    for s in running:
        state = "[red]not ready[/]" if s in not_ready else "[green]ready[/]"
        table.add_row(s.spec.name, s.url, state, str(s.log))
    console.print(table)
    if not_ready:
        console.print("[red]some services did not become ready; see their logs[/]")
    console.print("tripflow is up. Ctrl-C stops it.")
    exit_code = 0
    try:
        while not stopping:
            dead = [s for s in running if s.proc.poll() is not None]
            if dead:
                for s in dead:
                    console.print(
                        f"[red]{s.spec.name} exited with code {s.proc.returncode}; see {s.log}[/]"
                    )
                exit_code = 1
                break
            time.sleep(0.5)
    finally:
        console.print("stopping services …")
        stop_services(running)
        # What this command started, it stops; infrastructure that was already up stays up.
        for status in started_here:
            console.print(f"stopping {status.name} …")
            if status.name == "kafka":
                Kafka(settings.kafka_bootstrap).down()
            else:
                Postgres(settings.database_url).down()
    return exit_code


def port_owner(port: int) -> str | bool:
    """False if the port is free; the tripflow service name answering there; True otherwise."""
    import httpx

    from tripflow_cli.infra import port_open

    if not port_open("127.0.0.1", port):
        return False
    try:
        return str(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()["service"])
    except Exception:
        return True


def cmd_booking(args: argparse.Namespace) -> int:
    from tripflow_cli.bookings import booking_created, publish_events, sample_booking

    data = sample_booking(args.booking_id, args.amount, args.currency)
    asyncio.run(
        publish_events(
            _settings().kafka_bootstrap, [booking_created(data)], _settings().kafka_namespace
        )
    )
    console.print(
        f"published booking.created for {args.booking_id}: {data['total_amount']} {data['currency']}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tripflow_cli.demo import run_demo

    return asyncio.run(run_demo(_settings(), args.bookings, args.gateway, args.timeout))


def cmd_test(args: argparse.Namespace) -> int:
    settings = _settings()
    _print_status(infra_up(settings))
    env = {**os.environ, "TRIPFLOW_TEST_INFRA": "local"}
    return subprocess.call([sys.executable, "-m", "pytest", *args.pytest_args], env=env)


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from tripflow_cli import asyncapi

    if args.check:
        if asyncapi.is_current():
            console.print(f"{asyncapi.DOCUMENT} is current")
            return 0
        console.print(f"[red]{asyncapi.DOCUMENT} is stale: run `tripflow asyncapi`[/]")
        return 1
    console.print(f"wrote {asyncapi.write()}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from tripflow_cli import bench

    settings = _settings()
    _print_status(infra_up(settings))
    if args.what in ("webhooks", "all"):
        if shutil.which("wrk"):
            asyncio.run(bench.bench_webhooks_wrk(settings, args.seconds, args.concurrency))
        else:
            console.print(
                "wrk not found (apt-get install wrk): driving the load from Python instead"
            )
            asyncio.run(bench.bench_webhooks(settings, args.requests, args.concurrency))
    if args.what in ("flow", "all"):
        asyncio.run(bench.bench_flow(settings, args.bookings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tripflow", description="tripflow booking-automation engine"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    infra = sub.add_parser("infra", help="Kafka and PostgreSQL for development and tests")
    infra.add_argument("action", choices=["up", "down", "status"])
    infra.set_defaults(func=cmd_infra)

    up = sub.add_parser("up", help="infra and all five services; Ctrl-C stops them")
    up.add_argument(
        "--no-infra", action="store_true", help="use Kafka and PostgreSQL as configured"
    )
    up.set_defaults(func=cmd_up)

    sub.add_parser("migrate", help="bring every schema to its newest version").set_defaults(
        func=cmd_migrate
    )

    booking = sub.add_parser("booking", help="publish booking.created as the checkout system would")
    booking.add_argument("action", choices=["create"])
    booking.add_argument("booking_id")
    booking.add_argument("--amount", type=int, default=None, help="total in minor units")
    booking.add_argument("--currency", default="EUR")
    booking.set_defaults(func=cmd_booking)

    demo = sub.add_parser("demo", help="bookings and signed webhooks through the running system")
    demo.add_argument("--bookings", type=int, default=3)
    demo.add_argument("--gateway", default="http://127.0.0.1:8001")
    demo.add_argument("--timeout", type=float, default=60.0)
    demo.set_defaults(func=cmd_demo)

    bench = sub.add_parser(
        "bench", help="throughput figures against a baseline measured in the same run"
    )
    bench.add_argument("what", choices=["webhooks", "flow", "all"], nargs="?", default="all")
    bench.add_argument("--requests", type=int, default=3000, help="without wrk: per endpoint")
    bench.add_argument("--seconds", type=int, default=10, help="with wrk: seconds per endpoint")
    bench.add_argument("--concurrency", type=int, default=32)
    bench.add_argument("--bookings", type=int, default=300)
    bench.set_defaults(func=cmd_bench)

    spec = sub.add_parser("asyncapi", help="write docs/asyncapi/tripflow.json from the code")
    spec.add_argument(
        "--check", action="store_true", help="fail if the committed document is stale"
    )
    spec.set_defaults(func=cmd_asyncapi)

    test = sub.add_parser("test", help="start the infrastructure and run the test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=cmd_test)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "test":
        args.pytest_args = extra + args.pytest_args  # everything after `test` belongs to pytest
    elif extra:
        parser.error("unrecognized arguments: " + " ".join(extra))
    os.chdir(repo_root())
    try:
        sys.exit(args.func(args))
    except InfraError as exc:
        console.print(f"[red]infra:[/] {exc}")
        sys.exit(2)
