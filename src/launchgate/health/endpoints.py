"""``GET /health`` (and ``HEAD``, answered by ``kit/head_requests.py``): what a load balancer,
a container healthcheck or an operator asks before sending traffic.

``status`` uses the product documentation's words (SPEC §3): ``healthy``; ``degraded`` when
Redis is configured but down (deterministic runs still work, 200); ``unhealthy`` with 503
when the database is down, so a probe that only reads the status code takes the process
out of rotation.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from launchgate import __version__
from launchgate.deps import RuntimeDep
from launchgate.kit.time import iso_z, utcnow

router = APIRouter(tags=["health"])

ServiceState = Literal["connected", "disconnected", "not_configured"]
Status = Literal["healthy", "degraded", "unhealthy"]


class Services(BaseModel):
    database: ServiceState
    redis: ServiceState


class HealthOut(BaseModel):
    status: Status
    version: str
    timestamp: str
    services: Services


async def _database(runtime: RuntimeDep) -> ServiceState:
    try:
        async with asyncio.timeout(3):
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        return "connected"
    except Exception:
        return "disconnected"


async def _redis(runtime: RuntimeDep) -> ServiceState:
    if runtime.redis_probe is None:  # no Redis configured
        return "not_configured"
    return "connected" if await runtime.redis_probe() else "disconnected"


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "The database is down"}},
)
async def health(runtime: RuntimeDep) -> JSONResponse:
    database, redis = await _database(runtime), await _redis(runtime)
    status: Status = (
        "unhealthy"
        if database != "connected"
        else ("degraded" if redis == "disconnected" else "healthy")
    )
    body = HealthOut(
        status=status,
        version=__version__,
        timestamp=iso_z(utcnow()),
        services=Services(database=database, redis=redis),
    )
    return JSONResponse(body.model_dump(), status_code=503 if database != "connected" else 200)
