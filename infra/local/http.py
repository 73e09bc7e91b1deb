"""The API Gateway of the local stack: HTTP requests → REST (v1) proxy events → the function.

:class:`ApiGateway` reads the routes of an ``AWS::ApiGateway::RestApi`` (the OpenAPI body
SAM generates), matches a request the way API Gateway does (static segments before
``{param}`` before ``{proxy+}``; a method before ``ANY``), authorizes it with the route's
Cognito authorizer (:class:`infra.local.auth.CognitoAuthorizer`) and invokes the proxied
function with the proxy event. Without a matching route it answers like API Gateway:
403 ``{"message": "Missing Authentication Token"}``; a missing or invalid token is 401
``{"message": "Unauthorized"}`` and the function is not invoked; a function error or a
malformed proxy response is 502 ``{"message": "Internal server error"}``.

:class:`ApiServer` serves an :class:`ApiGateway` over HTTP on 127.0.0.1 (stdlib
``ThreadingHTTPServer``); :meth:`ApiGateway.request` calls it in-process, without HTTP.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.local.auth import CognitoAuthorizer, Unauthorized
from infra.local.dispatch import Dispatcher
from infra.local.provision import ApiRoute, RestApiSpec, Stack

logger = logging.getLogger(__name__)

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


@dataclass
class ApiResponse:
    """What API Gateway sends back to the client."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    multi_value_headers: dict[str, list[str]] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode() or "null")

    @property
    def text(self) -> str:
        return self.body.decode()


def _message(status: int, message: str, request_id: str) -> ApiResponse:
    return ApiResponse(
        status,
        {
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": {
                401: "UnauthorizedException",
                403: "MissingAuthenticationTokenException",
            }.get(status, "InternalServerErrorException"),
        },
        json.dumps({"message": message}).encode(),
    )


@dataclass(frozen=True)
class _Match:
    route: ApiRoute
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _match_resource(resource: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """A specificity score and the path parameters if ``path`` matches ``resource``."""
    pattern, actual = _segments(resource), _segments(path)
    score: list[int] = []
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            rest = actual[index:]
            if not rest:
                return None
            params[part[1:-2]] = unquote("/".join(rest))
            score.append(0)
            return (*score,), params
        if index >= len(actual):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(actual[index])
            score.append(1)
        elif part == actual[index]:
            score.append(2)
        else:
            return None
    if len(pattern) != len(actual):
        return None
    return (*score,), params


class ApiGateway:
    """One REST API of the stack, callable in-process or through :class:`ApiServer`."""

    def __init__(self, stack: Stack, dispatcher: Dispatcher, api: str | None = None) -> None:
        if not stack.rest_apis:
            raise LookupError("the template has no AWS::ApiGateway::RestApi")
        if api is None:
            api = max(stack.rest_apis, key=lambda k: (len(stack.rest_apis[k].routes), k))
        self.stack = stack
        self.dispatcher = dispatcher
        self.spec: RestApiSpec = stack.rest_apis[api]
        self.authorizers = {
            name: CognitoAuthorizer(stack, authorizer)
            for name, authorizer in self.spec.authorizers.items()
            if authorizer.type == "cognito_user_pools"
        }

    # -- routing -------------------------------------------------------------------------

    def match(self, method: str, path: str) -> _Match | None:
        best: tuple[tuple[int, ...], int, _Match] | None = None
        for route in self.spec.routes:
            if route.method not in (method, "ANY"):
                continue
            found = _match_resource(route.resource, path)
            if found is None:
                continue
            score, params = found
            rank = (score, 1 if route.method == method else 0, _Match(route, params))
            if best is None or rank[:2] > best[:2]:
                best = rank
        if best is None and _segments(path)[:1] == [self.spec.stage]:
            return self.match(method, "/" + "/".join(_segments(path)[1:]))
        return best[2] if best else None

    # -- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Call the API in-process (no HTTP): ``path`` may carry a query string."""
        all_headers = {"Host": "127.0.0.1", "User-Agent": "sellerops-local"}
        all_headers.update(headers or {})
        if token is not None:
            all_headers["Authorization"] = token
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        raw = body.encode() if isinstance(body, str) else body or b""
        parts = urlsplit(path)
        return self.handle(method, parts.path or "/", list(all_headers.items()), parts.query, raw)

    def handle(
        self,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        query: str = "",
        body: bytes = b"",
        *,
        source_ip: str = "127.0.0.1",
    ) -> ApiResponse:
        """Serve one request: route, authorize, invoke, map the proxy response."""
        request_id = str(uuid.uuid4())
        method = method.upper()
        headers = list(headers)
        if path != "/" and path.endswith("/"):
            path = path.rstrip("/")
        matched = self.match(method, path)
        if matched is None or (matched.route.function is None and matched.route.mock is None):
            return _message(403, "Missing Authentication Token", request_id)
        route = matched.route
        claims = None
        if route.authorizer is not None:
            authorizer = self.authorizers.get(route.authorizer)
            if authorizer is None:
                logger.warning("authorizer %s is not emulated; refusing", route.authorizer)
                return _message(401, "Unauthorized", request_id)
            header_name = self.spec.authorizers[route.authorizer].header.lower()
            value = next((v for k, v in headers if k.lower() == header_name), None)
            try:
                claims = authorizer.authorize(value, route.scopes)
            except Unauthorized as reason:
                logger.info("401 for %s %s: %s", method, path, reason)
                return _message(401, "Unauthorized", request_id)
        if route.mock is not None:
            status, mock_headers = route.mock
            return ApiResponse(
                status, {"Content-Type": "application/json", **dict(mock_headers)}, b"{}"
            )
        assert route.function is not None
        event = self._event(
            method, path, headers, query, body, matched, claims, request_id, source_ip
        )
        invocation = self.dispatcher.try_invoke(route.function, event)
        if not invocation.ok:
            return _message(502, "Internal server error", request_id)
        return self._response(invocation.result, request_id)

    def _is_binary(self, content_type: str) -> bool:
        media = content_type.split(";", 1)[0].strip().lower()
        return any(
            fnmatch.fnmatch(media, pattern.lower()) for pattern in self.spec.binary_media_types
        )

    def _event(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        query: str,
        body: bytes,
        matched: _Match,
        claims: dict[str, str] | None,
        request_id: str,
        source_ip: str,
    ) -> dict[str, Any]:
        single_headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            single_headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        for name, value in (
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Proto", "http"),
        ):
            if not any(k.lower() == name.lower() for k in single_headers):
                single_headers[name] = value
                multi_headers[name] = [value]
        pairs = parse_qsl(query, keep_blank_values=True)
        single_query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in pairs:
            single_query[name] = value
            multi_query.setdefault(name, []).append(value)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if not body:
            body_text, encoded = None, False
        elif self._is_binary(content_type):
            body_text, encoded = base64.b64encode(body).decode(), True
        else:
            body_text, encoded = body.decode("utf-8", errors="replace"), False
        now = datetime.now(UTC)
        host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
        user_agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
        resource = matched.route.resource
        request_context: dict[str, Any] = {
            "resourceId": hashlib.sha1(resource.encode()).hexdigest()[:6],  # noqa: S324
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{self.spec.stage}{path}",
            "accountId": self.stack.account_id,
            "protocol": "HTTP/1.1",
            "stage": self.spec.stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": host,
            "apiId": self.spec.api_id,
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": claims}
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": single_query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": matched.path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body_text,
            "isBase64Encoded": encoded,
        }

    def _response(self, result: Any, request_id: str) -> ApiResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            logger.warning("malformed Lambda proxy response: %r", result)
            return _message(502, "Internal server error", request_id)
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        multi = {
            str(k): [str(v) for v in values]
            for k, values in (result.get("multiValueHeaders") or {}).items()
        }
        body = result.get("body")
        if body is None:
            raw = b""
        elif not isinstance(body, str):
            logger.warning("Lambda proxy response body is not a string: %r", type(body))
            return _message(502, "Internal server error", request_id)
        elif result.get("isBase64Encoded"):
            raw = base64.b64decode(body)
        else:
            raw = body.encode()
        if not any(k.lower() == "content-type" for k in [*headers, *multi]):
            headers["Content-Type"] = "application/json"
        headers.setdefault("x-amzn-RequestId", request_id)
        return ApiResponse(result["statusCode"], headers, raw, multi)


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        started = time.monotonic()
        try:
            response = self.server.gateway.handle(
                self.command,
                parts.path,
                list(self.headers.items()),
                parts.query,
                body,
                source_ip=self.client_address[0],
            )
        except Exception:
            logger.exception("local API gateway failed")
            response = _message(502, "Internal server error", str(uuid.uuid4()))
        self.send_response(response.status)
        sent = set()
        for name, value in response.headers.items():
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            self.send_header(name, value)
            sent.add(name.lower())
        for name, values in response.multi_value_headers.items():
            if name.lower() in sent or name.lower() in ("content-length", "connection"):
                continue
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        logger.info(
            "%s %s %d %.0fms",
            self.command,
            self.path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        super().__init__(address, _Handler)
        self.gateway = gateway


class ApiServer:
    """Serves an :class:`ApiGateway` on ``http://host:port`` (port 0: any free port)."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), gateway)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}"

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.1)

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self._serve, name="sellerops-local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
