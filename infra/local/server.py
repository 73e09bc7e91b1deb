"""``sellerops local``: the whole stack as a local server until Ctrl-C.

moto's threaded server runs on 127.0.0.1 (a free port), the template is provisioned in it,
the fake SP-API (infra.simulator) runs beside it with the demo seller authorised,
the API is served on ``http://127.0.0.1:PORT``, and the pollers and the schedule clock run
in background threads. On start it prints exactly, one per line::

    api http://127.0.0.1:PORT
    seller-token SELLER_ID JWT
    staff-token JWT
    ready

Everything else (handler logs, EMF metrics, warnings) goes to stderr, so stdout stays
machine-readable. ``python -m infra.local.server --port 3000`` runs it too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from infra.local.runtime import LocalStack, moto_server
from infra.simulator.sandbox import SimulatedAmazon

logger = logging.getLogger(__name__)

DEMO_SELLER_ID = "A1SELLEROPSDEMO"
DEMO_ACCOUNT = {
    "name": "Demo Seller",
    "language": "en",
    "country": "US",
    "products": ["repricer", "lost_found"],
}


def ensure_demo_account(local: LocalStack, seller_id: str, token: str) -> str:
    """Create the demo seller's account: through ``PUT /accounts/me`` when the API handles
    it, else directly in the Accounts table. Returns how it was created."""
    if local.api is not None and local.api.match("PUT", "/accounts/me"):
        response = local.request("PUT", "/accounts/me", token=token, json_body=DEMO_ACCOUNT)
        if 200 <= response.status < 300:
            return "api"
        logger.warning(
            "PUT /accounts/me answered %d (%s); writing the account directly",
            response.status,
            response.text[:200],
        )
    table = next(
        (
            r.physical_id
            for logical_id, r in local.stack.of_type("AWS::DynamoDB::Table").items()
            if logical_id == "AccountsTable"
        ),
        None,
    )
    if table is None:
        logger.warning("no AccountsTable in the template; the demo seller has no account")
        return "none"
    item: dict[str, Any] = {
        "account_id": {"S": f"acct-{seller_id}"},
        "seller_id": {"S": seller_id},
        "name": {"S": DEMO_ACCOUNT["name"]},
        "language": {"S": DEMO_ACCOUNT["language"]},
        "country": {"S": DEMO_ACCOUNT["country"]},
        "products": {"L": [{"S": p} for p in DEMO_ACCOUNT["products"]]},
    }
    local.stack.aws("dynamodb").put_item(TableName=table, Item=item)
    return "table"


def run_local(
    port: int = 3000,
    out: TextIO | None = None,
    *,
    template: Path | str | None = None,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
    environment: dict[str, str | None] | None = None,
    clock_speed: float = 1.0,
) -> None:
    """Serve the local stack on ``http://host:port`` until Ctrl-C, SIGTERM or ``stop``.

    ``out`` receives the start-up lines (default: stdout); ``clock_speed`` makes the
    schedule clock run that many times faster than the wall clock.
    """
    out = out if out is not None else sys.stdout
    stop = stop or threading.Event()
    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        # Handler logs and metrics must not interleave with the start-up protocol on stdout.
        with (
            contextlib.redirect_stdout(sys.stderr),
            moto_server(host) as endpoint,
            SimulatedAmazon() as amazon,
        ):
            logger.info("moto server on %s, fake SP-API on %s", endpoint, amazon.url)
            print(f"fake SP-API {amazon.url}", file=sys.stderr)
            local = LocalStack.start(
                template,
                endpoint_url=endpoint,
                environment=environment,
                parameters=amazon.stack_parameters(),
            )
            secrets = local.stack.aws("secretsmanager")
            amazon.store_app_secret(secrets)
            amazon.authorise_seller(secrets, DEMO_SELLER_ID)
            logger.debug("local stack:\n%s", local.stack.report())
            api = local.serve_api(host, port)
            threads: list[threading.Thread] = []
            try:
                seller_token = local.issue_token(DEMO_SELLER_ID)
                staff_token = local.issue_token(staff=True)
                ensure_demo_account(local, DEMO_SELLER_ID, seller_token)
                threads = local.run_background(stop, clock_speed=clock_speed)
                print(f"api {api.url}", file=out)
                print(f"seller-token {DEMO_SELLER_ID} {seller_token}", file=out)
                print(f"staff-token {staff_token}", file=out)
                print("ready", file=out, flush=True)
                while not stop.wait(0.5):
                    pass
            finally:
                stop.set()
                api.stop()
                for thread in threads:
                    thread.join(timeout=5)
    except KeyboardInterrupt:
        logger.info("interrupted; local stack stopped")
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.server", description="Run the sellerops stack locally."
    )
    parser.add_argument("--port", type=int, default=3000, help="API port (default 3000)")
    parser.add_argument("--template", help="SAM template (default: template.yaml)")
    parser.add_argument(
        "--clock-speed", type=float, default=1.0, help="schedule clock speed vs. real time"
    )
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    run_local(args.port, template=args.template, clock_speed=args.clock_speed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
