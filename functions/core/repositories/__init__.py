"""DynamoDB data access, one module per table (accounts, listings, price_history, claims).

Modules import boto3 only when a repository first talks to DynamoDB; the error types
below are what callers catch.
"""

from functions.core.repositories.errors import (
    AlreadyExists,
    ConcurrentModification,
    Conflict,
    InvalidPageToken,
    InvalidTransition,
    NotFound,
    RepositoryError,
)

__all__ = [
    "AlreadyExists",
    "ConcurrentModification",
    "Conflict",
    "InvalidPageToken",
    "InvalidTransition",
    "NotFound",
    "RepositoryError",
]
