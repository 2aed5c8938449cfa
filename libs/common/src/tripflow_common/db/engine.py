"""Async engine and the unit of work: commit at the edge, roll back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from tripflow_common.settings import CommonSettings

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(settings: CommonSettings, *, pool_size: int = 10) -> AsyncEngine:
    """One engine per process; short connect timeout so an absent database is noticed fast."""
    return create_async_engine(
        settings.async_database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,  # parameters hold payloads: never in errors or logs
        connect_args={"timeout": 5, "server_settings": {"application_name": "tripflow"}},
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """The edge of a transaction: commit when the block ends cleanly, roll back otherwise."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
