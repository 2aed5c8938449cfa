"""Webhook routes: thin. Read the body within limits, let the service verify and record, answer."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from tripflow_common.db.engine import unit_of_work
from tripflow_common.ops import record_heartbeat
from tripflow_common.runtime import ServiceRuntime
from tripflow_gateway.webhooks.errors import (
    UnknownProvider,
    WebhookNotJson,
    WebhookRejected,
    WebhookTooLarge,
)
from tripflow_gateway.webhooks.service import (
    WEBHOOKS_OUTCOME,
    WEBHOOKS_RECEIVED,
    WEBHOOKS_REJECTED,
    WebhookService,
    detect_payment_provider,
)

log = logging.getLogger(__name__)

PAYMENT_PROVIDERS = ("stripe", "standard")
HEARTBEAT_THRESHOLD_SECONDS = 24 * 3600  # payments arrive at business pace, not every minute

WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "accepted, duplicate or ignored"},
    400: {"description": "malformed JSON or missing headers"},
    401: {"description": "bad signature, or timestamp outside the tolerance"},
    413: {"description": "body too large"},
    415: {"description": "body is not JSON"},
    422: {"description": "verified, but booking_id, amount or currency missing"},
}


class HeartbeatThrottle:
    """One heartbeat write per interval per process: every receipt counts, the hot row does not."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False


def build_router(runtime: ServiceRuntime, service: WebhookService) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    settings = service.settings
    throttles = {
        name: HeartbeatThrottle(settings.webhook_heartbeat_min_interval_seconds)
        for name in ("payment_webhook", "supplier_webhook")
    }

    async def read_body(request: Request) -> bytes:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise WebhookNotJson("webhooks must be sent as application/json")
        limit = settings.webhook_max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise WebhookTooLarge(f"body over {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                raise WebhookTooLarge(f"body over {limit} bytes")
        return bytes(body)

    async def receive(
        request: Request, background: BackgroundTasks, provider: str | None, heartbeat: str
    ) -> JSONResponse:
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        background.add_task(_heartbeat, heartbeat)
        label = provider or "auto"
        try:
            body = await read_body(request)
            headers = {k.lower(): v for k, v in request.headers.items()}
            name = provider or detect_payment_provider(headers)
            label = name
            WEBHOOKS_RECEIVED.labels(name).inc()
            event = service.verify(name, headers, body)
            async with unit_of_work(runtime.session_factory) as session:
                result = await service.record(session, event)
        except WebhookRejected as exc:
            return rejection(exc, label, request_id, background)
        WEBHOOKS_OUTCOME.labels(result.provider, result.outcome).inc()
        log.info(
            "webhook received",
            extra={
                "request_id": request_id,
                "provider": result.provider,
                "event_id": result.event_id,
                "outcome": result.outcome,
            },
        )
        content: dict[str, Any] = {"status": result.outcome, "event_id": result.event_id}
        if result.published_event_id:
            content["published_event_id"] = str(result.published_event_id)
        return JSONResponse(
            content=content, headers={"x-request-id": request_id}, background=background
        )

    def rejection(
        exc: WebhookRejected, label: str, request_id: str, background: BackgroundTasks | None
    ) -> JSONResponse:
        WEBHOOKS_REJECTED.labels(label, exc.reason).inc()
        log.info(
            "webhook rejected",
            extra={"request_id": request_id, "provider": label, "outcome": exc.code},
        )
        return JSONResponse(
            status_code=exc.status_code,
            content={"code": exc.code, "message": exc.message},
            headers={"x-request-id": request_id},
            background=background,
        )

    async def _heartbeat(name: str) -> None:
        if throttles[name].due():
            await record_heartbeat(
                runtime.session_factory, name, threshold_seconds=HEARTBEAT_THRESHOLD_SECONDS
            )

    @router.post("/api/payments/webhook", responses=WEBHOOK_RESPONSES)
    async def payment_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
        """A payment provider's webhook; the scheme is told by its headers."""
        return await receive(request, background, None, "payment_webhook")

    @router.post("/api/payments/webhook/{provider}", responses=WEBHOOK_RESPONSES)
    async def provider_webhook(
        provider: str, request: Request, background: BackgroundTasks
    ) -> JSONResponse:
        """A payment provider's webhook, scheme named in the path: `stripe` or `standard`."""
        if provider not in PAYMENT_PROVIDERS:
            # Only payment schemes here ("supplier" must not publish through a payments route),
            # and a path segment never becomes a metric label.
            unknown = UnknownProvider(
                "unknown payment provider; use one of: " + ", ".join(PAYMENT_PROVIDERS)
            )
            request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
            return rejection(unknown, "unknown", request_id, None)
        return await receive(request, background, provider, "payment_webhook")

    @router.post("/api/suppliers/webhook", responses=WEBHOOK_RESPONSES)
    async def supplier_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
        """A supplier's booking confirmation (Standard Webhooks)."""
        return await receive(request, background, "supplier", "supplier_webhook")

    return router
