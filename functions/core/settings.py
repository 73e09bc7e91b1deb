"""Typed configuration from the environment.

Each function declares the settings it needs as a subclass of :class:`BaseConfig`
and reads them once with :func:`load_settings`, which names every missing or invalid
variable in one error instead of failing on the first ``os.environ[...]``.
"""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """The environment does not configure this function correctly."""


class BaseConfig(BaseSettings):
    """Settings every function has. Environment variable = field name in upper case."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: str = Field(default="dev", description="deployment stage name")
    aws_region: str = Field(default="us-east-1", description="AWS region of the stack")


class TablesConfig(BaseConfig):
    """Names of the stack's DynamoDB tables (set by template.yaml Globals)."""

    accounts_table: str
    listings_table: str
    price_history_table: str
    claims_table: str


class SpApiConfig(BaseConfig):
    """Where SP-API credentials live and which endpoints to call.

    ``spapi_app_secret`` names the Secrets Manager secret with the application's LWA
    ``client_id`` and ``client_secret``; each seller's ``refresh_token`` is in the secret
    ``{spapi_seller_secret_prefix}{seller_id}``. The endpoint overrides exist for the
    local simulator; in AWS they stay empty and the seller's marketplace picks the region.
    """

    spapi_app_secret: str = "sellerops/spapi/app"  # noqa: S105 - a secret name
    spapi_seller_secret_prefix: str = "sellerops/spapi/sellers/"  # noqa: S105 - a name
    spapi_endpoint: str | None = None
    lwa_endpoint: str | None = None


Config = TypeVar("Config", bound=BaseSettings)


def describe_errors(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "(settings)"
        parts.append(f"{name}: {item['msg']}")
    return "; ".join(parts)


def load_settings(config_class: type[Config]) -> Config:
    """Read ``config_class`` from the environment, every bad variable named at once."""
    try:
        return config_class()
    except ValidationError as error:
        raise ConfigurationError(
            f"invalid configuration for {config_class.__name__}: {describe_errors(error)}"
        ) from None


def _variables_of(config_class: type[BaseSettings]) -> tuple[str, ...]:
    """The environment variable names ``config_class`` reads, as upper and lower case."""
    names = _VARIABLES.get(config_class)
    if names is None:
        names = _VARIABLES[config_class] = tuple(
            spelling for name in config_class.model_fields
            for spelling in (name.upper(), name.lower())
        )
    return names


def cached_settings(config_class: type[Config]) -> Config:
    """:func:`load_settings`, once per process and environment.

    In Lambda the environment never changes, so this reads it once. The cache key also
    holds the values of the variables ``config_class`` reads (spelt in upper or lower case,
    as every deployment spells them), so a process whose environment does change (the
    local stack runs every function in one process, each with its own variables) gets the
    settings of the environment it runs in, and the same object again whenever that
    environment comes back: whatever is built from it (clients, repositories) can be kept
    as long as the settings object stays the same. A few microseconds per call.
    """
    get = os.environ.get
    key = (config_class, tuple(get(name) for name in _variables_of(config_class)))
    settings = _SETTINGS.get(key)
    if settings is None:
        settings = _SETTINGS[key] = load_settings(config_class)
    return settings  # type: ignore[return-value]


def _clear_settings() -> None:
    _SETTINGS.clear()


_SETTINGS: dict[tuple[type[BaseSettings], tuple[str | None, ...]], BaseSettings] = {}
_VARIABLES: dict[type[BaseSettings], tuple[str, ...]] = {}
cached_settings.cache_clear = _clear_settings  # type: ignore[attr-defined]
