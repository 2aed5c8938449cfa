from __future__ import annotations

from fastapi import FastAPI

from tripflow_common.messaging.broker import create_broker
from tripflow_common.messaging.failures import FailureReporter
from tripflow_common.runtime import ServiceRuntime
from tripflow_common.web.app import create_service_app
from tripflow_documents import CONSUMER_GROUP, SCHEMA, SERVICE
from tripflow_documents.documents import endpoints, handlers
from tripflow_documents.settings import DocumentsSettings


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    settings = settings or DocumentsSettings()
    broker = create_broker(
        settings, FailureReporter(CONSUMER_GROUP, SERVICE, settings.kafka_namespace)
    )
    runtime = ServiceRuntime(
        name=SERVICE,
        settings=settings,
        schema=SCHEMA,
        migrations="tripflow_documents:migrations",
        broker=broker,
    )
    broker.include_router(handlers.build_router(runtime.session_factory, settings))
    return create_service_app(runtime, [endpoints.build_router(runtime)])
