"""``GET /api/browser-pool``: the browser pool's browsers, pages, limits and totals.

It reaches beyond single streams (the pool serves them all), so it needs a token without a
``streams`` claim, as ``/metrics`` does. The answer holds no cookie and no account secret:
the pool knows its contexts by account id and reports only how many there are.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from herald.api.access import require_all_streams
from herald.api.responses import JSON
from herald.service import Herald


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter()

    @router.get("/api/browser-pool", tags=["system"], dependencies=[Depends(require_all_streams)])
    async def browser_pool() -> JSON:
        """Whether the browser path is on, each browser (pid, open pages, pages served,
        start time), the limits, and the pool's totals since it started."""
        return JSON(herald.browser_pool.status())

    return router
