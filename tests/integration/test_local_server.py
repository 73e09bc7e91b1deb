"""Server mode (``sellerops local``): moto's server, the API over HTTP, tokens, shutdown."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import IO, Any

import pytest

from infra.local.runtime import free_port
from infra.local.server import DEMO_SELLER_ID
from tests.integration.local.support import REPO_TEMPLATE, ROOT

STARTUP_SECONDS = 60


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _read_startup(stream: IO[str]) -> list[str]:
    """Lines up to and including ``ready`` (fails after STARTUP_SECONDS)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
            if line.strip() == "ready":
                return

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while not seen or seen[-1] != "ready":
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no 'ready' within {STARTUP_SECONDS}s; got {seen}"
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            pytest.fail(f"no 'ready' within {STARTUP_SECONDS}s; got {seen}")
    return seen


def _parse(lines: list[str], port: int) -> tuple[str, str, str]:
    assert len(lines) == 4, lines
    api, seller, staff, ready = lines
    assert api == f"api http://127.0.0.1:{port}"
    kind, seller_id, seller_token = seller.split(" ")
    assert (kind, seller_id) == ("seller-token", DEMO_SELLER_ID)
    kind, staff_token = staff.split(" ")
    assert kind == "staff-token"
    assert ready == "ready"
    return api.split(" ", 1)[1], seller_token, staff_token


@pytest.mark.skipif(not REPO_TEMPLATE.exists(), reason="template.yaml not written yet")
def test_python_m_server_serves_the_real_stack_until_sigterm() -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url, seller_token, staff_token = _parse(_read_startup(process.stdout), port)

        assert _get(f"{url}/health")[0] == 200
        status, account = _get(f"{url}/accounts/me", seller_token)
        assert status == 200, account
        assert account["seller_id"] == DEMO_SELLER_ID
        status, listed = _get(f"{url}/accounts", staff_token)
        assert status == 200
        assert DEMO_SELLER_ID in {a["seller_id"] for a in listed["items"]}
        assert _get(f"{url}/accounts/me", "not-a-token") == (401, {"message": "Unauthorized"})
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0
    assert process.stdout.read() == ""  # nothing but the start-up lines on stdout
