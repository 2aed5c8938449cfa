"""The gateway under test: one in-process app per session, on this session's database and namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tripflow_cli.testing.apps import running_app
from tripflow_gateway.app import create_app
from tripflow_gateway.settings import GatewaySettings


@pytest.fixture(scope="session")
async def gateway(tripflow_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running gateway (migrated, relay publishing to this session's namespace)."""
    async with running_app(create_app(GatewaySettings())) as client:
        yield client
