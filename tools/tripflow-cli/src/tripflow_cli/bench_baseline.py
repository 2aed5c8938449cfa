"""The baseline the gateway is measured against: a bare FastAPI endpoint that does one INSERT
and a commit, on the same engine settings, server and database."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy import text

from tripflow_common.db.engine import create_engine, create_session_factory, unit_of_work
from tripflow_common.settings import CommonSettings

settings = CommonSettings()
engine = create_engine(settings)
factory = create_session_factory(engine)
app = FastAPI()


@app.on_event("startup")
async def _schema() -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS public.bench_baseline (id BIGSERIAL PRIMARY KEY, body JSONB NOT NULL)"
            )
        )


@app.post("/insert")
async def insert(request: Request) -> dict[str, str]:
    body = await request.body()
    async with unit_of_work(factory) as session:
        await (await session.connection()).execute(
            text("INSERT INTO public.bench_baseline (body) VALUES (CAST(:b AS JSONB))"),
            {"b": body.decode()},
        )
    return {"status": "ok"}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["TRIPFLOW_PORT"]),
        log_level="warning",
        access_log=False,
    )
