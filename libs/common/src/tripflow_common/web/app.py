"""The FastAPI shell every service shares: lifespan, health, readiness, metrics, JSON errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tripflow_common.errors import TripflowError
from tripflow_common.messaging.failures import describe_error, is_infrastructure_fault
from tripflow_common.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"code": code, "message": message})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TripflowError)
    async def _tripflow_error(_: Request, exc: TripflowError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        return error_response(422, "invalid_request", "invalid fields: " + ", ".join(fields))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_infrastructure_fault(exc):
            # Nothing was recorded: the caller (a webhook provider) should try again later.
            log.warning(
                "dependency unavailable",
                extra={"path": request.url.path, "error_type": type(exc).__name__},
            )
            return error_response(
                503,
                "dependency_unavailable",
                "a dependency is unavailable; nothing was recorded, retry later",
            )
        log.error(
            "unexpected error",
            extra={
                "path": request.url.path,
                "error_type": type(exc).__name__,
                "error": describe_error(exc),
            },
        )
        return error_response(500, "internal_error", "unexpected error; see the service log")

    # Database and network errors are handled inside the app (503, not re-raised); anything
    # else reaches Starlette's last-resort handler, which answers 500 with the same body.
    for error_class in (OSError, DBAPIError, Exception):
        app.add_exception_handler(error_class, _unexpected)  # type: ignore[arg-type]


def create_service_app(
    runtime: ServiceRuntime, routers: Sequence[APIRouter] = (), *, title: str | None = None
) -> FastAPI:
    """A service's FastAPI app with `/healthz`, `/readyz`, `/metrics` and its own routers."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title or f"tripflow {runtime.name}", lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ok, checks = await runtime.readiness()
        return JSONResponse(
            status_code=200 if ok else 503,
            content={
                "status": "ready" if ok else "not_ready",
                "service": runtime.name,
                "checks": checks,
            },
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


def internal_key_ok(given: str | None, keys: Sequence[str]) -> bool:
    """Constant-time check of an `X-Internal-Key` against every valid key (rotation)."""
    import hmac

    if not given:
        return False
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched
