"""``GET /health``: liveness, no identity and no data access."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api.models import Health
from functions.api.routes import responses

router = Router()


@router.get("/health", summary="Liveness check", tags=["health"], responses=responses(Health))
def health() -> Health:
    return Health()
