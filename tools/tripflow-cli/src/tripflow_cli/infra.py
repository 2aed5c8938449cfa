"""Real Kafka (KRaft, jars from Maven Central) and PostgreSQL (Debian's package), no Docker.

`up` is idempotent: what already answers is used as it is; what we start is recorded
in a pid file so that `down` stops only that.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg

from tripflow_common.messaging.broker import ensure_topics

T = TypeVar("T")


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when called inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class InfraError(RuntimeError):
    """Something the infrastructure needs is missing; the message says what and how to get it."""


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "infra" / "kafka" / "pom.xml").exists():
            return parent
    raise InfraError("cannot find the tripflow repository (infra/kafka/pom.xml)")


def state_root() -> Path:
    default = "/var/tmp/tripflow"  # noqa: S108 - shared by every clone on the machine, holds no secret
    return Path(os.environ.get("TRIPFLOW_STATE_DIR", default))  # noqa: S108 - shared, not secret


def cache_root() -> Path:
    return Path(os.environ.get("TRIPFLOW_CACHE_DIR", Path.home() / ".cache" / "tripflow"))


def is_root() -> bool:
    return os.geteuid() == 0


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise InfraError(f"timed out after {timeout:.0f}s waiting for {what}")


def stop_pid(pid: int, timeout: float = 30.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Status:
    name: str
    running: bool
    where: str
    owned: bool
    detail: str = ""


# --------------------------------------------------------------------------- Kafka
class Kafka:
    def __init__(self, bootstrap: str, partitions: int = 6, state_dir: Path | None = None) -> None:
        host, _, port = bootstrap.split(",")[0].rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self.bootstrap = f"{self.host}:{self.port}"
        self.partitions = partitions
        self.dir = (state_dir or state_root()) / f"kafka-{self.port}"
        self.pid_file = self.dir / "kafka.pid"
        self.log_file = self.dir / "kafka.log"

    @property
    def version(self) -> str:
        pom = (repo_root() / "infra" / "kafka" / "pom.xml").read_text()
        match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
        assert match, "kafka.version missing from infra/kafka/pom.xml"
        return match.group(1)

    def jars(self) -> Path:
        """The broker's classpath, fetched from Maven Central once and cached."""
        libs = cache_root() / f"kafka-{self.version}" / "libs"
        if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
            return libs
        if not shutil.which("java"):
            raise InfraError(
                "Java (17 or newer) is needed to run Kafka: apt-get install openjdk-17-jre-headless"
            )
        if not shutil.which("mvn"):
            raise InfraError(
                "Maven is needed to fetch Kafka's jars from Maven Central: apt-get install maven"
            )
        staging = libs.with_name(f"libs.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        print(f"fetching Kafka {self.version} jars from Maven Central (once) …", flush=True)
        result = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(repo_root() / "infra" / "kafka" / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise InfraError(
                "Maven could not fetch Kafka's jars:\n" + (result.stdout + result.stderr)[-2000:]
            )
        libs.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        return libs

    def _properties(self) -> str:
        data = self.dir / "data"
        controller = self.port + 1
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller}",
                f"listeners=PLAINTEXT://{self.host}:{self.port},CONTROLLER://127.0.0.1:{controller}",
                f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={data}",
                f"num.partitions={self.partitions}",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=6",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "delete.topic.enable=true",
                "",
            ]
        )

    def _java(self) -> str:
        java = shutil.which("java")
        if not java:
            raise InfraError(
                "Java (17 or newer) is needed to run Kafka: apt-get install openjdk-17-jre-headless"
            )
        return java

    def metadata_ok(self) -> bool:
        """A real metadata round-trip, and every tripflow topic in place."""
        try:
            run_async(lambda: asyncio.wait_for(ensure_topics(self.bootstrap, self.partitions), 20))
        except Exception:
            return False
        return True

    def up(self) -> Status:
        pid = read_pid(self.pid_file)
        if port_open(self.host, self.port):
            wait_for(self.metadata_ok, 60, f"Kafka metadata at {self.bootstrap}")
            return Status("kafka", True, self.bootstrap, pid is not None, "already running")
        java = self._java()
        libs = self.jars()
        self.dir.mkdir(parents=True, exist_ok=True)
        props = self.dir / "server.properties"
        props.write_text(self._properties())
        classpath = f"{libs}/*"
        if not (self.dir / "data" / "meta.properties").exists():
            cluster_id = (
                subprocess.run(
                    [java, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
                or uuid.uuid4().hex
            )
            subprocess.run(
                [
                    java,
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(props),
                    "--ignore-formatted",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        log_config = repo_root() / "infra" / "kafka" / "log4j2.properties"
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    java,
                    "-Xms256m",
                    "-Xmx1g",
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={log_config}",
                    "-cp",
                    classpath,
                    "kafka.Kafka",
                    str(props),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))

        def started() -> bool:
            if proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-3000:]
                raise InfraError(
                    f"Kafka exited with code {proc.returncode}; log {self.log_file}:\n{tail}"
                )
            with self.log_file.open("rb") as f:
                f.seek(offset)
                return b"Kafka Server started" in f.read()

        wait_for(started, 120, f"'Kafka Server started' in {self.log_file}")
        wait_for(self.metadata_ok, 60, f"Kafka metadata at {self.bootstrap}")
        return Status(
            "kafka", True, self.bootstrap, True, f"started, pid {proc.pid}, Kafka {self.version}"
        )

    def down(self) -> Status:
        pid = read_pid(self.pid_file)
        if pid is None:
            return Status(
                "kafka",
                port_open(self.host, self.port),
                self.bootstrap,
                False,
                "not ours, left alone",
            )
        stop_pid(pid)
        self.pid_file.unlink(missing_ok=True)
        return Status("kafka", False, self.bootstrap, True, f"stopped pid {pid}")

    def kill(self) -> None:
        """SIGKILL the broker we started (chaos and fault tests)."""
        pid = read_pid(self.pid_file)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid) or _reap(pid), 10, "Kafka to die")

    def status(self) -> Status:
        pid = read_pid(self.pid_file)
        running = port_open(self.host, self.port)
        return Status(
            "kafka", running, self.bootstrap, pid is not None, f"pid {pid}" if pid else ""
        )


def _reap(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return not pid_alive(pid)


# --------------------------------------------------------------------------- PostgreSQL
class Postgres:
    def __init__(self, database_url: str) -> None:
        self.url = database_url.replace("postgresql+asyncpg://", "postgresql://")
        parts = urlsplit(self.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = parts.username or "tripflow"
        self.password = parts.password or ""
        self.database = (parts.path or "/tripflow").lstrip("/") or "tripflow"
        self.dir = state_root() / f"pg-{self.port}"
        self.data = self.dir / "data"
        self.sockets = self.dir / "run"
        self.log_file = self.dir / "postgres.log"
        self.pid_file = self.data / "postmaster.pid"

    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"

    def can_connect(self) -> bool:
        async def _try() -> bool:
            conn = await asyncpg.connect(self.url, timeout=3)
            await conn.close()
            return True

        try:
            return run_async(_try)
        except Exception:
            return False

    def bin_dir(self) -> Path:
        candidates = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
            key=lambda p: int(p.parent.parent.name),
        )
        if candidates:
            return candidates[-1].parent
        if is_root() and shutil.which("apt-get"):
            print("installing PostgreSQL from Debian's packages …", flush=True)
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            result = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "postgresql"],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
            if result.returncode != 0:
                raise InfraError("apt-get install postgresql failed:\n" + result.stderr[-2000:])
            return self.bin_dir()
        raise InfraError(
            "PostgreSQL is not installed: run 'apt-get install postgresql' as root, "
            "or set TRIPFLOW_DATABASE_URL to a server you have"
        )

    def _as_owner(self, args: list[str]) -> list[str]:
        # The server refuses to run as root: as root, run it as Debian's postgres user.
        return ["runuser", "-u", "postgres", "--", *args] if is_root() else args

    def _local(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1")

    def up(self) -> Status:
        if self.can_connect():
            return Status("postgres", True, self.where(), self._owned(), "already running")
        if port_open(self.host, self.port):
            if self._owned():
                self._create_role_and_database()
                return Status(
                    "postgres", True, self.where(), True, "running; role and database ensured"
                )
            raise InfraError(
                f"something listens on {self.host}:{self.port} but refuses the credentials in "
                "TRIPFLOW_DATABASE_URL; fix the URL or free the port"
            )
        if not self._local():
            raise InfraError(
                f"PostgreSQL at {self.where()} does not answer, and it is not local to start"
            )
        bins = self.bin_dir()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(parents=True, exist_ok=True)
        if is_root():
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.dir)], check=True)
            self.dir.parent.chmod(0o755)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(
                self._as_owner(
                    [
                        str(bins / "initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        "postgres",
                        "-E",
                        "UTF8",
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        "--no-instructions",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses={self.host} "
            "-c max_connections=300 -c shared_buffers=256MB"
        )
        result = subprocess.run(
            self._as_owner(
                [
                    str(bins / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise InfraError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")
        self._create_role_and_database()
        wait_for(self.can_connect, 30, f"PostgreSQL at {self.where()}")
        return Status(
            "postgres",
            True,
            self.where(),
            True,
            f"started from {bins.parent.name}, data in {self.data}",
        )

    def _psql(self, sql: str, database: str = "postgres") -> str:
        psql = shutil.which("psql") or str(self.bin_dir() / "psql")
        result = subprocess.run(
            [
                psql,
                "-h",
                str(self.sockets),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise InfraError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _create_role_and_database(self) -> None:
        user = self.user.replace('"', "")
        password = self.password.replace("'", "''")
        if not self._psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'"):
            self._psql(f"CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{password}'")
        else:
            self._psql(f"ALTER ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{password}'")
        if not self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"):
            self._psql(f'CREATE DATABASE "{self.database}" OWNER "{user}"')

    def _owned(self) -> bool:
        return (self.data / "postmaster.pid").exists() and self.dir.exists()

    def down(self) -> Status:
        if not self._owned():
            return Status(
                "postgres",
                port_open(self.host, self.port),
                self.where(),
                False,
                "not ours, left alone",
            )
        bins = self.bin_dir()
        subprocess.run(
            self._as_owner(
                [str(bins / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        return Status("postgres", False, self.where(), True, "stopped")

    def status(self) -> Status:
        return Status("postgres", port_open(self.host, self.port), self.where(), self._owned())


def current_user() -> str:
    return getpass.getuser()
