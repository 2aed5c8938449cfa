from __future__ import annotations

from fastapi import FastAPI

from tripflow_common.messaging.broker import create_broker
from tripflow_common.messaging.failures import FailureReporter
from tripflow_common.runtime import ServiceRuntime
from tripflow_common.web.app import create_service_app
from tripflow_lifecycle import CONSUMER_GROUP, SCHEMA, SERVICE
from tripflow_lifecycle.bookings.handlers import build_router
from tripflow_lifecycle.settings import LifecycleSettings


def create_app(settings: LifecycleSettings | None = None) -> FastAPI:
    settings = settings or LifecycleSettings()
    broker = create_broker(
        settings, FailureReporter(CONSUMER_GROUP, SERVICE, settings.kafka_namespace)
    )
    runtime = ServiceRuntime(
        name=SERVICE,
        settings=settings,
        schema=SCHEMA,
        migrations="tripflow_lifecycle:migrations",
        broker=broker,
    )
    broker.include_router(build_router(runtime.session_factory, settings))
    return create_service_app(runtime)
