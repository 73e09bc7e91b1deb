"""A seller's Repricer: connect to Amazon, seller-wide switches.

Routes only translate: request model → logic call → response model. Identity, the
repositories and the event bus arrive through ``Depends``; errors are mapped to HTTP in
handler.py.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from functions.api.dependencies import accounts_repository, domain_events
from functions.api.identity import Caller, current_caller
from functions.api.logic import sellers as logic
from functions.api.observability import metrics
from functions.api.repricer_models import ConnectIn, RepricerOut, RepricerPut
from functions.api.routes import COGNITO, responses
from functions.core.accounts import Account
from functions.core.events import DomainEvents
from functions.core.repositories.accounts import AccountRepository
from functions.core.settings import BaseConfig, cached_settings

router = Router()

CurrentCaller = Annotated[Caller, Depends(current_caller)]
Accounts = Annotated[AccountRepository, Depends(accounts_repository)]
Events = Annotated[DomainEvents, Depends(domain_events)]
SellerIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class KillSwitchConfig(BaseConfig):
    """``REPRICER_KILL_SWITCH`` (template.yaml parameter): true stops every submission."""

    repricer_kill_switch: bool = False


def _out(account: Account) -> RepricerOut:
    return RepricerOut.from_domain(
        account, kill_switch=cached_settings(KillSwitchConfig).repricer_kill_switch
    )


@router.post(
    "/sellers/me/connect",
    summary="Connect the caller's seller to the Repricer (subscriptions + first listings sync)",
    description=(
        "Records a `requested` connection and puts `SellerConnectRequested` on the event "
        "bus; ConnectSellerFunction subscribes the seller to ANY_OFFER_CHANGED, "
        "B2B_ANY_OFFER_CHANGED and ORDER_CHANGE and syncs its listings as unconfigured. "
        "Poll `GET /sellers/me/repricer` for progress. A connection still in progress for "
        "the same marketplaces is returned as it is."
    ),
    tags=["repricer"],
    responses=responses(
        RepricerOut, 401, 403, 404, 409, ok_status=202, ok_description="connection requested"
    ),
    security=COGNITO,
)
def connect_seller(
    caller: CurrentCaller,
    accounts: Accounts,
    events: Events,
    body: Annotated[ConnectIn | None, Body()] = None,
) -> Response[RepricerOut]:
    account, requested = logic.request_connection(
        accounts, events, caller, body.marketplace_ids if body is not None else None
    )
    if requested:
        metrics.add_metric(name="SellerConnectRequested", unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=_out(account),
    )


@router.get(
    "/sellers/me/repricer",
    summary="The caller's Repricer switches and connection progress",
    tags=["repricer"],
    responses=responses(RepricerOut, 401, 403, 404),
    security=COGNITO,
)
def get_my_repricer(caller: CurrentCaller, accounts: Accounts) -> RepricerOut:
    return _out(logic.repricer_account(accounts, caller))


@router.put(
    "/sellers/me/repricer",
    summary="Set the caller's seller-wide switches (paused, dry_run)",
    description="A newly connected seller is in dry run until they switch it off here.",
    tags=["repricer"],
    responses=responses(RepricerOut, 401, 403, 404, 409),
    security=COGNITO,
)
def put_my_repricer(body: RepricerPut, caller: CurrentCaller, accounts: Accounts) -> RepricerOut:
    account = logic.set_switches(
        accounts, caller, paused=body.paused, dry_run=body.dry_run, expected_version=body.version
    )
    return _out(account)


@router.get(
    "/sellers/<seller_id>/repricer",
    summary="A seller's Repricer switches and connection (staff, or that seller)",
    tags=["repricer"],
    responses=responses(RepricerOut, 401, 404),
    security=COGNITO,
)
def get_repricer(seller_id: SellerIdPath, caller: CurrentCaller, accounts: Accounts) -> RepricerOut:
    return _out(logic.repricer_account(accounts, caller, seller_id))
