from __future__ import annotations

from fastapi import FastAPI

from tripflow_common.runtime import ServiceRuntime
from tripflow_common.web.app import create_service_app
from tripflow_gateway import SCHEMA, SERVICE
from tripflow_gateway.settings import GatewaySettings
from tripflow_gateway.webhooks.endpoints import build_router
from tripflow_gateway.webhooks.service import WebhookService


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    settings.validate_secrets()
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, schema=SCHEMA, migrations="tripflow_gateway:migrations"
    )
    return create_service_app(runtime, [build_router(runtime, WebhookService(settings))])
