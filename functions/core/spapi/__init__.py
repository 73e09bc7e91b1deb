"""Selling Partner API client: LWA auth, per-seller rate limits, retries, typed errors.

See docs/SPAPI-CLIENT.md. Importing this package loads urllib3 but never boto3.
"""

from functions.core.spapi.auth import LwaAuth, lwa_token_url
from functions.core.spapi.client import (
    JSON_CONTENT_TYPE,
    ApplicationApi,
    SellerApi,
    SpApiClient,
    SpApiResponse,
)
from functions.core.spapi.credentials import (
    AppCredentials,
    CredentialSource,
    SecretsManagerCredentials,
    StaticCredentials,
)
from functions.core.spapi.errors import (
    ApiErrorDetail,
    LwaAuthError,
    SpApiClientError,
    SpApiConflict,
    SpApiConnectionError,
    SpApiCredentialsError,
    SpApiError,
    SpApiNotFound,
    SpApiServerError,
    SpApiThrottled,
)
from functions.core.spapi.operations import NOTIFICATIONS_SCOPE, OPERATIONS, Operation, operation
from functions.core.spapi.ratelimit import RateLimiter, TokenBucket
from functions.core.spapi.transport import RetryPolicy

__all__ = [
    "JSON_CONTENT_TYPE",
    "NOTIFICATIONS_SCOPE",
    "OPERATIONS",
    "ApiErrorDetail",
    "AppCredentials",
    "ApplicationApi",
    "CredentialSource",
    "LwaAuth",
    "LwaAuthError",
    "Operation",
    "RateLimiter",
    "RetryPolicy",
    "SecretsManagerCredentials",
    "SellerApi",
    "SpApiClient",
    "SpApiClientError",
    "SpApiConflict",
    "SpApiConnectionError",
    "SpApiCredentialsError",
    "SpApiError",
    "SpApiNotFound",
    "SpApiResponse",
    "SpApiServerError",
    "SpApiThrottled",
    "StaticCredentials",
    "TokenBucket",
    "lwa_token_url",
    "operation",
]
