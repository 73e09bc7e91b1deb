"""Who is calling: the Cognito claims API Gateway's user-pool authorizer put in the event.

API Gateway (REST) has already verified the token; the claims arrive as strings under
``requestContext.authorizer.claims``: ``custom:seller_id`` (the caller's SP-API seller
id), ``cognito:groups`` (``staff`` for the customer-success team), ``sub`` and ``email``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler.request import Request

from functions.api.errors import NotAllowed, NotAuthenticated
from functions.core.accounts import validate_seller_id

STAFF_GROUP = "staff"
SELLER_ID_CLAIM = "custom:seller_id"
GROUPS_CLAIM = "cognito:groups"

_GROUP_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller. ``seller_id`` is ``None`` for staff without a seller."""

    subject: str | None
    seller_id: str | None
    groups: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None

    @property
    def is_staff(self) -> bool:
        return STAFF_GROUP in self.groups

    def require_seller(self) -> str:
        """The caller's seller id; raises :class:`NotAllowed` for a caller without one."""
        if self.seller_id is None:
            raise NotAllowed("this route needs a seller identity (custom:seller_id)")
        return self.seller_id

    def require_staff(self) -> None:
        if not self.is_staff:
            raise NotAllowed("this route is for the staff group only")


def parse_groups(value: Any) -> frozenset[str]:
    """``cognito:groups`` as a set, whatever shape API Gateway passed it in.

    A list, ``"staff"``, ``"staff,admins"`` or ``"[staff admins]"`` (how API Gateway
    renders a JSON array claim as a string).
    """
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [str(v) for v in value]
    else:
        items = _GROUP_SEPARATORS.split(str(value).strip().strip("[]"))
    return frozenset(item.strip() for item in items if item.strip())


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    """A :class:`Caller` from the authorizer claims; raises :class:`NotAuthenticated`.

    A caller must carry a valid seller id, or belong to the staff group, or both.
    """
    if not claims:
        raise NotAuthenticated("missing identity: no authorizer claims in the request")
    groups = parse_groups(claims.get(GROUPS_CLAIM))
    raw_seller = claims.get(SELLER_ID_CLAIM)
    seller_id = str(raw_seller).strip() if raw_seller is not None else ""
    if seller_id:
        try:
            validate_seller_id(seller_id)
        except ValueError:
            raise NotAuthenticated("invalid identity: malformed custom:seller_id claim") from None
    if not seller_id and STAFF_GROUP not in groups:
        raise NotAuthenticated("invalid identity: the token names no seller and no staff group")
    subject = claims.get("sub")
    email = claims.get("email")
    return Caller(
        subject=str(subject) if subject else None,
        seller_id=seller_id or None,
        groups=groups,
        email=str(email) if email else None,
    )


def claims_of(event: Any) -> Mapping[str, Any] | None:
    """The authorizer claims of an API Gateway REST (v1) proxy event, raw dict or wrapper."""
    raw = getattr(event, "raw_event", event)
    if not isinstance(raw, Mapping):
        return None
    authorizer = (raw.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    return claims if isinstance(claims, Mapping) else None


def current_caller(request: Request) -> Caller:
    """Route dependency (``Depends(current_caller)``): the caller of this request."""
    return caller_from_claims(claims_of(request.resolved_event))
