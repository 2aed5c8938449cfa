"""Run a service app under uvicorn with tripflow's JSON logging."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from tripflow_common.logging import configure_logging
from tripflow_common.settings import CommonSettings, SettingsError


def serve(
    name: str,
    load_settings: Callable[[], CommonSettings],
    build_app: Callable[..., FastAPI],
    port: int,
) -> None:
    """Entry point of `python -m tripflow_<service>`: settings errors stop with one clear line."""
    try:
        settings = load_settings()
        configure_logging(name, settings.log_level)
        app = build_app(settings)
    except SettingsError as exc:
        raise SystemExit(f"{name}: configuration error: {exc}") from None
    uvicorn.run(app, host=settings.host, port=port, log_config=None, access_log=False)
