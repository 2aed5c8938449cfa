"""`tripflow infra` says what is missing and how to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripflow_cli import infra


def test_missing_java_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIPFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(infra.shutil, "which", lambda name: None)
    with pytest.raises(infra.InfraError, match="Java"):
        infra.Kafka("127.0.0.1:1", state_dir=tmp_path).jars()


def test_missing_maven_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIPFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(
        infra.shutil, "which", lambda name: "/usr/bin/java" if name == "java" else None
    )
    with pytest.raises(infra.InfraError, match="Maven"):
        infra.Kafka("127.0.0.1:1", state_dir=tmp_path).jars()


def test_missing_postgres_without_root_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(infra.Path, "glob", lambda self, pattern: iter(()))
    monkeypatch.setattr(infra, "is_root", lambda: False)
    with pytest.raises(infra.InfraError, match="apt-get install postgresql"):
        infra.Postgres("postgresql://u:p@127.0.0.1:1/db").bin_dir()


def test_kafka_version_comes_from_the_pom() -> None:
    assert infra.Kafka("127.0.0.1:9092").version.startswith("4.")


def test_dotenv_is_written_once_with_random_secrets(tmp_path: Path) -> None:
    from tripflow_cli.dotenv import ensure_dotenv

    path = tmp_path / ".env"
    assert ensure_dotenv(path) is True
    first = path.read_text()
    assert ensure_dotenv(path) is False
    assert path.read_text() == first
    assert ensure_dotenv(tmp_path / ".env2") and (tmp_path / ".env2").read_text() != first
    assert "TRIPFLOW_STRIPE_WEBHOOK_SECRETS=whsec_" in first
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_everything_after_test_goes_to_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    from tripflow_cli import main

    seen: list[list[str]] = []
    monkeypatch.setattr(main, "cmd_test", lambda args: seen.append(args.pytest_args) or 0)
    with pytest.raises(SystemExit) as exit_info:
        main.main(["test", "-q", "-p", "no:cacheprovider", "-k", "gateway"])
    assert exit_info.value.code == 0
    assert seen == [["-q", "-p", "no:cacheprovider", "-k", "gateway"]]
    with pytest.raises(SystemExit):
        main.main(["infra", "status", "--bogus"])
