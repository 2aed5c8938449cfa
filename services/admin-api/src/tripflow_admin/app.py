from __future__ import annotations

from fastapi import FastAPI

from tripflow_admin import SCHEMA, SERVICE
from tripflow_admin.settings import AdminSettings
from tripflow_common.runtime import ServiceRuntime
from tripflow_common.web.app import create_service_app


def create_app(settings: AdminSettings | None = None) -> FastAPI:
    settings = settings or AdminSettings()
    runtime = ServiceRuntime(
        name=SERVICE,
        settings=settings,
        schema=SCHEMA,
        migrations="tripflow_admin:migrations",
        relay=False,
    )
    return create_service_app(runtime)
