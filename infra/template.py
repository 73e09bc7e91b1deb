"""template.yaml, read and expanded offline.

The SAM template is the single source of truth for the stack. The local stack, the
template checks and the policy tests all read the *transformed* template (plain
CloudFormation, as AWS would deploy it) from here, so nothing lists resources by hand.

aws-sam-translator needs two things to run without AWS: local ``CodeUri``s replaced by
an ``s3://`` URI, and a managed-policy loader (we answer with the ARN pattern of AWS
managed policies instead of calling IAM).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"

_DUMMY_CODE_URI = "s3://sellerops-local-artifacts/code.zip"


class _OfflinePolicyLoader:
    """Managed-policy name → ARN without asking IAM."""

    def load(self) -> dict[str, str]:
        names = [
            "AWSLambdaBasicExecutionRole",
            "AWSLambdaSQSQueueExecutionRole",
            "AWSLambdaDynamoDBExecutionRole",
            "AWSXrayWriteOnlyAccess",
            "AWSXRayDaemonWriteAccess",
        ]
        arns = {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in names}
        arns["AWSXrayWriteOnlyAccess"] = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
        arns["AWSXRayDaemonWriteAccess"] = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
        return arns


def load_sam(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse template.yaml with its short-form intrinsics (!Ref, !Sub, ...)."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(Path(path).read_text(encoding="utf-8"))


def _offline_code_uris(sam: dict[str, Any]) -> dict[str, Any]:
    sam = copy.deepcopy(sam)
    globals_fn = sam.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_fn and not str(globals_fn["CodeUri"]).startswith("s3://"):
        globals_fn["CodeUri"] = _DUMMY_CODE_URI
    for resource in sam.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = props.get("CodeUri")
            if uri is None or (isinstance(uri, str) and not uri.startswith("s3://")):
                props["CodeUri"] = _DUMMY_CODE_URI
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            uri = props.get("ContentUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props["ContentUri"] = _DUMMY_CODE_URI
    return sam


DEFAULT_REGION = "us-east-1"


def transform(
    sam: dict[str, Any], parameter_values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Expand a SAM template into plain CloudFormation, offline.

    The translator asks a boto3 session for the region (it fills the AWS::Region and
    AWS::Partition pseudo parameters); without AWS_REGION/AWS_DEFAULT_REGION or a
    config file that fails, so we hand it a session with a region: the
    ``AWS::Region`` parameter value if given, else the environment's, else us-east-1.
    Intrinsics such as ``!Sub ${AWS::Region}`` stay symbolic in the output either way.
    """
    import logging

    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    # The translator warns on every call that its (remote) feature-toggle config is absent.
    logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)
    params = dict(parameter_values or {})
    region = params.get("AWS::Region") or boto3.session.Session().region_name or DEFAULT_REGION
    session = boto3.session.Session(region_name=region)
    fragment = _offline_code_uris(sam)
    to_py27_compatible_template(fragment, params)
    loader = _OfflinePolicyLoader()
    translator = Translator(None, Parser(), boto_session=session)
    expanded = undo_mark_unicode_str_in_template(
        translator.translate(fragment, parameter_values=params, get_managed_policy_map=loader.load)
    )
    # Round-trip through JSON so callers get plain dicts and lists.
    return json.loads(json.dumps(expanded, default=str))


@lru_cache(maxsize=4)
def _transformed_json(path: str) -> str:
    return json.dumps(transform(load_sam(path)))


def load_transformed(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """The transformed template (a fresh copy each call; the expansion is cached)."""
    return json.loads(_transformed_json(str(Path(path).resolve())))


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id → resource for every resource of ``resource_type``."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }
