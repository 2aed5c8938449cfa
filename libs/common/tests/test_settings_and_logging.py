"""Settings name the variable that is wrong; logs never carry a secret, a signature or a payload."""

from __future__ import annotations

import json
import logging

import pytest

from tripflow_common.logging import JsonFormatter, redact, redact_text
from tripflow_common.settings import CommonSettings, SettingsError


def test_comma_lists_and_database_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPFLOW_INTERNAL_KEYS", " k1, k2 ,,k3")
    monkeypatch.setenv("TRIPFLOW_DATABASE_URL", "postgres://u:p@db.example:6543/x")
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.internal_keys == ["k1", "k2", "k3"]
    assert settings.async_database_url == "postgresql+asyncpg://u:p@db.example:6543/x"
    assert settings.database_target == "db.example:6543/x"  # never the password


def test_unusable_database_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPFLOW_DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(SettingsError, match="TRIPFLOW_DATABASE_URL"):
        _ = CommonSettings(_env_file=None).async_database_url  # type: ignore[call-arg]


def test_missing_secret_names_the_variable() -> None:
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="TRIPFLOW_STRIPE_WEBHOOK_SECRETS is not set"):
        settings.require_secrets("stripe_webhook_secrets", [])


def test_production_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPFLOW_ENV", "production")
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="placeholder"):
        settings.require_secrets("internal_keys", ["change-me-please-now"])
    with pytest.raises(SettingsError, match="too short"):
        settings.require_secrets("internal_keys", ["short"])
    settings.require_secrets("internal_keys", ["a-real-secret-of-enough-length-8f3k2"])


def test_namespace_prefixes_topics_and_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPFLOW_KAFKA_NAMESPACE", "staging.")
    settings = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.topic("payment.confirmed") == "staging.payment.confirmed"
    assert settings.group("lifecycle") == "staging.lifecycle"


def test_redaction_of_values_and_keys() -> None:
    text = (
        "secret whsec_abcDEF123+/= sig t=1,v1="
        + "a" * 64
        + " std v1,"
        + "QUJDREVGR0hJSktMTU5PUFFSU1RVVg=="
        + " auth Bearer abc.def.ghi url postgresql://u:pw@h/db"
    )
    out = redact_text(text)
    for leaked in ("whsec_abc", "a" * 64, "QUJDREVG", "abc.def.ghi", ":pw@"):
        assert leaked not in out
    assert redact({"body": "x", "nested": {"signature": "y", "ok": 1}}) == {
        "body": "[redacted]",
        "nested": {"signature": "[redacted]", "ok": 1},
    }


def test_json_log_lines_redact_extra_fields_and_messages() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "got whsec_SECRETSECRET", None, None)
    record.payload = {"card": "4242"}
    record.provider = "stripe"
    line = json.loads(JsonFormatter("svc").format(record))
    assert line["payload"] == "[redacted]"
    assert line["provider"] == "stripe"
    assert "SECRETSECRET" not in line["msg"]
