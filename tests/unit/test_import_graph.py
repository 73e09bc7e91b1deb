"""Cold-start guard: what importing each Lambda handler loads (every handler of the
template, in a fresh interpreter as Lambda would)."""

import json
import os
import subprocess
import sys

import pytest

from infra.template import load_transformed, resources_of_type

HANDLERS = sorted(
    props["Properties"]["Handler"].rsplit(".", 1)[0]
    for props in resources_of_type(load_transformed(), "AWS::Lambda::Function").values()
)

PROBE = """
import json, sys
import {module}
print(json.dumps({{name: name in sys.modules for name in {names!r}}}))
"""


def loaded(module: str, names: list[str], **env: str) -> dict[str, bool]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, names=names)],
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", **env},
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_template_function_is_covered():
    assert len(HANDLERS) >= 9


@pytest.mark.parametrize("module", HANDLERS)
def test_handler_import_skips_xray_and_boto3_when_tracing_is_off(module):
    result = loaded(module, ["aws_xray_sdk", "boto3", "moto", "infra"],
                    POWERTOOLS_TRACE_DISABLED="true")
    assert result == {"aws_xray_sdk": False, "boto3": False, "moto": False, "infra": False}


def test_tracing_on_loads_the_xray_sdk_for_a_traced_handler():
    # The other side of the switch: as deployed (Tracing: Active) the Tracer is real.
    result = loaded("functions.reprice.handler", ["aws_xray_sdk"],
                    POWERTOOLS_TRACE_DISABLED="false")
    assert result == {"aws_xray_sdk": True}
