"""CloudFormation intrinsic functions and conditions, resolved against the local stack.

The local stack reads the *transformed* template (plain CloudFormation) and has to turn
``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If`` and friends into the physical ids of the
resources it created in moto. :class:`Resolver` does that; it knows nothing about AWS
services: it asks a ``lookup`` callback for the value of ``Ref X`` / ``Fn::GetAtt X.Attr``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

NO_VALUE = object()
"""What ``Ref AWS::NoValue`` resolves to; removed from the enclosing dict or list."""


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve."""


# "Ref X" → lookup(X, None); "Fn::GetAtt X.A" → lookup(X, "A").
Lookup = Callable[[str, str | None], Any]

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def pseudo_parameters(*, region: str, account_id: str, stack_name: str) -> dict[str, Any]:
    """The ``AWS::*`` pseudo parameters of a local stack."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": (
            f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/"
            "00000000-0000-0000-0000-000000000000"
        ),
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


def parameter_values(template: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Template parameters: overrides, else ``Default``; a parameter with neither is an error."""
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in overrides:
            value = overrides.pop(name)
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no Default and no value was given")
        if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == (
            "CommaDelimitedList"
        ):
            value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        elif not isinstance(value, str):
            value = str(value)
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(v) for v in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
            raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
        values[name] = value
    if overrides:
        raise TemplateError(f"unknown template parameters: {', '.join(sorted(overrides))}")
    return values


class Resolver:
    """Resolve intrinsic functions in template fragments.

    ``parameters`` holds template parameters and pseudo parameters; ``lookup`` answers
    ``Ref``/``Fn::GetAtt`` on resources. Conditions are evaluated lazily and cached.
    """

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, Any],
        lookup: Lookup,
    ) -> None:
        self.template = template
        self.parameters = parameters
        self.lookup = lookup
        self._conditions: dict[str, bool] = {}

    # -- conditions -------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions") or {}
            if name not in definitions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self._condition_value(definitions[name]))
        return self._conditions[name]

    def _condition_value(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, args),) = node.items()
            if key == "Condition":
                return self.condition(args)
            if key == "Fn::Equals":
                left, right = (self.resolve(arg) for arg in args)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._condition_value(args[0])
            if key == "Fn::And":
                return all(self._condition_value(arg) for arg in args)
            if key == "Fn::Or":
                return any(self._condition_value(arg) for arg in args)
        value = self.resolve(node)
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)

    def resource_enabled(self, resource: dict[str, Any]) -> bool:
        """Whether a resource's ``Condition`` (if any) holds."""
        name = resource.get("Condition")
        return True if name is None else self.condition(name)

    # -- values -----------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """``node`` with every intrinsic replaced by its value (``AWS::NoValue`` removed)."""
        value = self._resolve(node)
        return None if value is NO_VALUE else value

    def _resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = (self._resolve(item) for item in node)
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, args),) = node.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, args)
        resolved = {}
        for key, value in node.items():
            value = self._resolve(value)
            if value is not NO_VALUE:
                resolved[key] = value
        return resolved

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name.startswith("AWS::"):
            raise TemplateError(f"unsupported pseudo parameter {name}")
        return self.lookup(name, None)

    def get_att(self, name: str, attribute: str) -> Any:
        return self.lookup(name, attribute)

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if expression in variables:
                value = variables[expression]
            elif "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                value = self.get_att(logical_id, attribute)
            else:
                value = self.ref(expression)
            if value is NO_VALUE:
                return ""
            return value if isinstance(value, str) else json.dumps(value)

        # "${!Literal}" is written as "${Literal}" without substitution.
        substituted = _SUB_VARIABLE.sub(replace, text)
        return substituted.replace("${!", "${")


def _fn_ref(resolver: Resolver, args: Any) -> Any:
    return resolver.ref(resolver.resolve(args))


def _fn_get_att(resolver: Resolver, args: Any) -> Any:
    if isinstance(args, str):
        logical_id, attribute = args.split(".", 1)
    else:
        logical_id, attribute = args[0], resolver.resolve(args[1])
    return resolver.get_att(logical_id, attribute)


def _fn_sub(resolver: Resolver, args: Any) -> Any:
    if isinstance(args, str):
        return resolver.sub(args, {})
    text, variables = args[0], resolver.resolve(args[1]) if len(args) > 1 else {}
    return resolver.sub(text, variables or {})


def _fn_join(resolver: Resolver, args: Any) -> Any:
    delimiter, items = args
    items = resolver.resolve(items)
    return resolver.resolve(delimiter).join(str(item) for item in items)


def _fn_if(resolver: Resolver, args: Any) -> Any:
    name, when_true, when_false = args
    return resolver._resolve(when_true if resolver.condition(name) else when_false)


def _fn_select(resolver: Resolver, args: Any) -> Any:
    index, items = resolver.resolve(args[0]), resolver.resolve(args[1])
    return items[int(index)]


def _fn_split(resolver: Resolver, args: Any) -> Any:
    delimiter, text = resolver.resolve(args[0]), resolver.resolve(args[1])
    return text.split(delimiter)


def _fn_find_in_map(resolver: Resolver, args: Any) -> Any:
    name, top, second = (resolver.resolve(arg) for arg in args[:3])
    try:
        return (resolver.template.get("Mappings") or {})[name][top][second]
    except KeyError:
        raise TemplateError(f"Fn::FindInMap: no {name}.{top}.{second}") from None


def _fn_base64(resolver: Resolver, args: Any) -> Any:
    return base64.b64encode(str(resolver.resolve(args)).encode()).decode()


def _fn_get_azs(resolver: Resolver, args: Any) -> Any:
    region = resolver.resolve(args) or resolver.parameters["AWS::Region"]
    return [f"{region}{zone}" for zone in "abc"]


def _fn_to_json_string(resolver: Resolver, args: Any) -> Any:
    return json.dumps(resolver.resolve(args), separators=(",", ":"))


def _fn_length(resolver: Resolver, args: Any) -> Any:
    return len(resolver.resolve(args))


def _fn_import_value(resolver: Resolver, args: Any) -> Any:
    raise TemplateError(f"Fn::ImportValue {resolver.resolve(args)!r}: no other stacks run locally")


def _fn_condition(resolver: Resolver, args: Any) -> Any:
    return resolver.condition(args)


def _condition_fn(key: str) -> Callable[[Resolver, Any], Any]:
    def evaluate(resolver: Resolver, args: Any) -> Any:
        return resolver._condition_value({key: args})

    return evaluate


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Sub": _fn_sub,
    "Fn::Join": _fn_join,
    "Fn::If": _fn_if,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
    "Fn::ToJsonString": _fn_to_json_string,
    "Fn::Length": _fn_length,
    "Fn::ImportValue": _fn_import_value,
    "Condition": _fn_condition,
    "Fn::Equals": _condition_fn("Fn::Equals"),
    "Fn::Not": _condition_fn("Fn::Not"),
    "Fn::And": _condition_fn("Fn::And"),
    "Fn::Or": _condition_fn("Fn::Or"),
}


def references(node: Any) -> set[str]:
    """Logical ids (and parameter names) a fragment refers to via Ref/GetAtt/Sub."""
    found: set[str] = set()
    _collect(node, found)
    return {name for name in found if not name.startswith("AWS::")}


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
        return
    if not isinstance(node, dict):
        return
    if len(node) == 1:
        ((key, args),) = node.items()
        if key == "Ref" and isinstance(args, str):
            found.add(args)
            return
        if key == "Fn::GetAtt":
            found.add(args.split(".", 1)[0] if isinstance(args, str) else args[0])
            return
        if key == "Fn::Sub":
            text = args if isinstance(args, str) else args[0]
            local = set() if isinstance(args, str) else set((args[1] or {}).keys())
            for match in _SUB_VARIABLE.finditer(text):
                name = match.group(1).strip().split(".", 1)[0]
                if name not in local:
                    found.add(name)
            if not isinstance(args, str):
                _collect(args[1], found)
            return
    for value in node.values():
        _collect(value, found)


def topological_order(dependencies: dict[str, Iterable[str]]) -> list[str]:
    """Names ordered so every name comes after what it depends on (stable, cycle-checked)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        mark = state.get(name, 0)
        if mark == 2:
            return
        if mark == 1:
            raise TemplateError(f"circular dependency: {' -> '.join((*path, name))}")
        state[name] = 1
        for dependency in sorted(set(dependencies.get(name, ())) & dependencies.keys()):
            visit(dependency, (*path, name))
        state[name] = 2
        order.append(name)

    for name in dependencies:
        visit(name, ())
    return order
