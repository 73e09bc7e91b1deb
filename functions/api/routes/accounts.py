"""Accounts routes: the caller's own account, and (staff) every account.

Routes only translate: request model → logic call → response model. Identity and the
repository arrive through ``Depends``; errors are mapped to HTTP in handler.py.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.api.dependencies import accounts_repository
from functions.api.identity import Caller, current_caller
from functions.api.logic import accounts as logic
from functions.api.models import AccountOut, AccountPage, AccountPut
from functions.api.observability import metrics
from functions.api.routes import COGNITO, responses
from functions.core.repositories.accounts import AccountRepository

router = Router()

CurrentCaller = Annotated[Caller, Depends(current_caller)]
Accounts = Annotated[AccountRepository, Depends(accounts_repository)]


@router.get(
    "/accounts/me",
    summary="The caller's own account",
    tags=["accounts"],
    responses=responses(AccountOut, 401, 403, 404),
    security=COGNITO,
)
def get_my_account(caller: CurrentCaller, accounts: Accounts) -> AccountOut:
    return AccountOut.from_domain(logic.get_own_account(accounts, caller))


@router.put(
    "/accounts/me",
    summary="Create (201) or update (200) the caller's own account",
    tags=["accounts"],
    responses={
        **responses(AccountOut, 401, 403, 404, 409, ok_description="account updated"),
        **responses(AccountOut, ok_status=201, ok_description="account created"),
    },
    security=COGNITO,
)
def put_my_account(
    body: AccountPut, caller: CurrentCaller, accounts: Accounts
) -> Response[AccountOut]:
    details = logic.AccountDetails(
        name=body.name,
        language=body.language,
        country=body.country,
        products=tuple(body.products),
        plan=body.plan,
        profile=body.profile.to_domain() if body.profile is not None else None,
        expected_version=body.version,
    )
    result = logic.put_own_account(accounts, caller, details)
    if result.created:
        metrics.add_metric(name="AccountsCreated", unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.CREATED if result.created else HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=AccountOut.from_domain(result.account),
    )


@router.get(
    "/accounts",
    summary="Every account, one page at a time (staff only)",
    tags=["accounts"],
    responses=responses(AccountPage, 400, 401, 403),
    security=COGNITO,
)
def list_accounts(
    caller: CurrentCaller,
    accounts: Accounts,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 50,
    next_token: Annotated[
        str | None, Query(max_length=2048, description="`next_token` of the previous page")
    ] = None,
) -> AccountPage:
    page = logic.list_accounts(accounts, caller, limit=limit, next_token=next_token)
    return AccountPage(
        items=[AccountOut.from_domain(a) for a in page.items], next_token=page.next_token
    )


@router.get(
    "/accounts/<account_id>",
    summary="One account by id (staff, or a seller of that account)",
    tags=["accounts"],
    responses=responses(AccountOut, 401, 404),
    security=COGNITO,
)
def get_account(
    account_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    caller: CurrentCaller,
    accounts: Accounts,
) -> AccountOut:
    return AccountOut.from_domain(logic.get_account(accounts, caller, account_id))
