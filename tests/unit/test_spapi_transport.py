"""Pure pieces of the SP-API client: JSON codec, retry policy, URLs, operations."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from functions.core.marketplaces import LWA_ENDPOINT
from functions.core.spapi.auth import lwa_token_url
from functions.core.spapi.client import charset_of, encode_query
from functions.core.spapi.credentials import AppCredentials, StaticCredentials
from functions.core.spapi.errors import (
    ApiErrorDetail,
    SpApiClientError,
    SpApiConflict,
    SpApiNotFound,
    client_error_for,
)
from functions.core.spapi.operations import OPERATIONS, operation
from functions.core.spapi.transport import (
    RetryPolicy,
    decode_json,
    encode_json,
    install_log_redaction,
    isoformat_utc,
    parse_retry_after,
    strip_query,
)


# -- JSON --------------------------------------------------------------------------------
def test_decimals_are_sent_as_json_numbers_with_their_exact_digits():
    body = {"value_with_tax": Decimal("18.90"), "n": [Decimal("-0.01"), Decimal("1E+2")], "s": "x"}
    text = encode_json(body).decode()
    assert text == '{"value_with_tax":18.90,"n":[-0.01,100],"s":"x"}'
    assert decode_json(text) == {
        "value_with_tax": Decimal("18.90"), "n": [Decimal("-0.01"), 100], "s": "x"
    }


def test_a_string_that_looks_like_a_number_stays_a_string():
    assert json.loads(encode_json({"sku": "18.90"})) == {"sku": "18.90"}


def test_non_finite_decimals_are_refused():
    with pytest.raises(ValueError):
        encode_json({"p": Decimal("NaN")})


def test_responses_parse_numbers_as_decimal():
    assert decode_json(b'{"Amount": 19.99}') == {"Amount": Decimal("19.99")}
    assert decode_json(b"") is None


def test_timestamps_are_utc_with_z_and_must_be_aware():
    berlin = timezone(timedelta(hours=2))
    assert isoformat_utc(datetime(2025, 10, 2, 11, 0, tzinfo=berlin)) == "2025-10-02T09:00:00Z"
    with pytest.raises(ValueError):
        isoformat_utc(datetime(2025, 10, 2))  # naive: the point of the test


# -- retry policy --------------------------------------------------------------------------
def test_backoff_is_full_jitter_exponential_and_capped():
    policy = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=4.0)
    assert [policy.delay(n, rand=lambda: 1.0) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]
    assert policy.delay(3, rand=lambda: 0.25) == 0.5


def test_retry_after_is_a_floor_but_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, max_retry_after=30)
    assert policy.delay(1, retry_after=3, rand=lambda: 0.0) == 3
    assert policy.delay(1, retry_after=3600, rand=lambda: 0.0) == 30


def test_retry_policy_needs_an_attempt():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_parse_retry_after_seconds_and_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:05 GMT", now=now) == 5.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# -- URLs and query strings -------------------------------------------------------------------
def test_query_lists_are_comma_joined_and_none_dropped():
    query = encode_query({
        "marketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
        "includedData": ("summaries", "attributes"),
        "issueLocale": None,
        "createdSince": datetime(2025, 1, 1, tzinfo=UTC),
        "empty": [],
    })
    assert query == (
        "marketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2&includedData=summaries,attributes"
        "&createdSince=2025-01-01T00%3A00%3A00Z"
    )


def test_path_parameters_are_percent_encoded():
    op = operation("getListingsItem")
    assert op.render(sellerId="S1", sku="MUG/BLUE 12") == (
        "/listings/2021-08-01/items/S1/MUG%2FBLUE%2012"
    )
    with pytest.raises(ValueError, match="sku"):
        op.render(sellerId="S1")


def test_unknown_operation_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported SP-API operation"):
        operation("deleteEverything")


def test_operation_table_has_the_documented_plans():
    plans = {name: (op.rate, op.burst) for name, op in OPERATIONS.items()}
    assert plans["patchListingsItem"] == (5, 5)
    assert plans["getListingsItem"] == (5, 10)
    assert plans["createFeed"] == (0.0083, 15)
    assert plans["getReportDocument"] == (0.0167, 15)
    assert plans["getItemOffersBatch"] == (0.1, 1)
    assert OPERATIONS["createDestination"].grantless
    assert not OPERATIONS["createSubscription"].grantless


@pytest.mark.parametrize(
    "override, expected",
    [
        (None, LWA_ENDPOINT),
        ("", LWA_ENDPOINT),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/auth/o2/token"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123/auth/o2/token"),
        ("https://lwa.example/auth/o2/token", "https://lwa.example/auth/o2/token"),
    ],
)
def test_lwa_endpoint_override(override, expected):
    assert lwa_token_url(override) == expected


@pytest.mark.parametrize(
    "header, expected",
    [
        ("text/plain;charset=Cp1252", "cp1252"),
        ('text/tab-separated-values; charset="UTF-8"', "utf-8"),
        ("text/plain; charset=windows-31j", "cp932"),
        ("application/octet-stream", None),
        (None, None),
    ],
)
def test_charset_of(header, expected):
    assert charset_of(header) == expected


# -- errors and credentials ---------------------------------------------------------------------
def test_error_details_are_read_leniently():
    body = {"errors": [{"code": "InvalidInput", "message": "bad", "details": "sku"}, "junk"]}
    assert ApiErrorDetail.from_body(body) == (ApiErrorDetail("InvalidInput", "bad", "sku"),)
    assert ApiErrorDetail.from_body({"errors": {"code": "X", "message": "y"}})[0].code == "X"
    assert ApiErrorDetail.from_body("nope") == ()


def test_client_error_subclasses_by_status():
    assert client_error_for(404) is SpApiNotFound
    assert client_error_for(409) is SpApiConflict
    assert client_error_for(400) is SpApiClientError


def test_credentials_never_show_secrets_in_repr():
    creds = StaticCredentials("amzn1.app-client", "TOP-SECRET", {"S1": "Atzr|REFRESH"})
    assert "TOP-SECRET" not in repr(creds) and "REFRESH" not in repr(creds)
    assert "TOP-SECRET" not in repr(AppCredentials("id", "TOP-SECRET"))


def test_url_query_strings_are_stripped_from_urllib3_logs(caplog):
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s "%s %s"', "http://h", "GET", "/documents/x?X-Amz-Signature=deadbeef"
    )
    assert "deadbeef" not in caplog.text
    assert "/documents/x?…" in caplog.text
    assert strip_query("/a?b=c") == "/a?…" and strip_query("/a") == "/a"


def test_importing_the_client_does_not_import_boto3():
    code = (
        "import sys, functions.core.spapi, infra.simulator.spapi_server\n"
        "print('boto3' in sys.modules, 'aws_lambda_powertools' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
