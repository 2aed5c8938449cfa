from __future__ import annotations

from fastapi import FastAPI

from tripflow_common.runtime import ServiceRuntime
from tripflow_common.web.app import create_service_app
from tripflow_retry import SCHEMA, SERVICE
from tripflow_retry.settings import RetrySettings


def create_app(settings: RetrySettings | None = None) -> FastAPI:
    settings = settings or RetrySettings()
    runtime = ServiceRuntime(
        name=SERVICE,
        settings=settings,
        schema=SCHEMA,
        migrations="tripflow_retry:migrations",
        relay=False,
    )
    return create_service_app(runtime)
