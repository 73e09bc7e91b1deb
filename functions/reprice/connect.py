"""ConnectSellerFunction: a ``SellerConnectRequested`` event → the seller is connected.

EventBridge (DomainEventBus, source ``sellerops.api``) invokes it asynchronously with the
event the API put when the seller called ``POST /sellers/me/connect``. The work is in
:mod:`functions.reprice.connection`; this module parses the event, builds the adapters
from the environment and maps the outcome:

- an event that is not a valid ``SellerConnectRequested`` is logged and dropped (a retry
  cannot make it valid);
- a seller without an account is logged and dropped (nothing to record progress on);
- a request replaced by a newer one stops quietly (the newer run goes on);
- ``SyncNotFinished`` and transient SP-API/AWS errors are raised: Lambda retries the
  asynchronous invocation and the retry resumes from the recorded progress;
- otherwise the connection's status (``connected`` or ``failed`` with its reason).

The SP-API client and repositories are built per invocation: the function runs once per
connection, so nothing is gained by keeping them, and nothing stale (endpoint, tables)
can outlive a changed environment in the local stack.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from functions.core.settings import BaseConfig, cached_settings
from functions.reprice.connection import (
    DETAIL_TYPE,
    AccountMissing,
    ConnectRequest,
    ConnectSettings,
    SellerConnector,
    Superseded,
    SyncNotFinished,
)

logger = Logger()
copy_config_to_registered_loggers(
    source_logger=logger, include={"functions.core.spapi", "functions.reprice.connection"}
)


class ConnectConfig(BaseConfig):
    """The function's own environment (template.yaml, ConnectSellerFunction)."""

    notifications_destination_name: str
    price_notifications_queue_arn: str
    # Optional tuning (not set in template.yaml): FiveMinutes | TenMinutes aggregates
    # ANY_OFFER_CHANGED; the report poll interval is lowered by the local stack.
    notifications_aggregation: str | None = None
    connect_report_poll_seconds: float = 10.0


def build_connector(context: Any) -> SellerConnector:
    """The connector with adapters from the environment (Secrets Manager, DynamoDB)."""
    from functions.core.repositories.accounts import AccountRepository
    from functions.core.repositories.listings import ListingRepository
    from functions.core.spapi import SpApiClient

    config = cached_settings(ConnectConfig)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return SellerConnector(
        SpApiClient.from_settings(),
        AccountRepository.from_settings(),
        ListingRepository.from_settings(),
        ConnectSettings(
            destination_name=config.notifications_destination_name,
            queue_arn=config.price_notifications_queue_arn,
            aggregation=config.notifications_aggregation or None,
            poll_seconds=config.connect_report_poll_seconds,
        ),
        time_left=(lambda: remaining() / 1000) if callable(remaining) else (lambda: 900.0),
    )


def parse_request(event: dict[str, Any]) -> ConnectRequest:
    """The request in an EventBridge event; the event id names it when the detail does not."""
    envelope = EventBridgeModel.model_validate(event)
    if envelope.detail_type != DETAIL_TYPE:
        raise ValueError(f"detail-type {envelope.detail_type!r} is not {DETAIL_TYPE}")
    request = ConnectRequest.model_validate(envelope.detail)
    if request.request_id is None:
        request = request.model_copy(update={"request_id": envelope.id})
    return request


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of ConnectSellerFunction (template.yaml)."""
    try:
        request = parse_request(event)
    except (ValidationError, ValueError) as error:
        logger.error("dropping an event that is not a SellerConnectRequested", error=str(error))
        return {"status": "ignored"}
    logger.append_keys(seller_id=request.seller_id, request_id=request.request_id)
    try:
        connection = build_connector(context).connect(request)
    except AccountMissing as error:
        logger.error("seller has no account: connection dropped", error=str(error))
        return {"status": "no_account"}
    except Superseded as error:
        logger.info("a newer connect request took over", reason=str(error))
        return {"status": "superseded"}
    except SyncNotFinished as error:
        logger.warning("first sync not finished; the retry resumes", reason=str(error))
        raise
    logger.info(
        "connection finished",
        status=str(connection.status),
        subscriptions=len(connection.subscriptions),
        syncs=[s.model_dump(mode="json", exclude_none=True) for s in connection.syncs],
        error=connection.error,
    )
    return {"status": str(connection.status), "error": connection.error}
