"""Test-wide environment: never reach real AWS, never trace, fixed region."""

from __future__ import annotations

import os

# Set before any test module imports boto3 or Powertools.
_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "sellerops-test",
    "POWERTOOLS_METRICS_NAMESPACE": "sellerops",
    "POWERTOOLS_DEV": "false",
}
for _key, _value in _TEST_ENV.items():
    os.environ[_key] = _value
# A developer's real profile must never be picked up by a test.
os.environ.pop("AWS_PROFILE", None)
