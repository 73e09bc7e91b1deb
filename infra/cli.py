"""The ``sellerops`` command (DESIGN.md §3).

    sellerops demo  [--seed 1] [--sellers 2] [--skus 50] [--days 14] [--json] [--record F]
                    [--workers N]
    sellerops local [--port 3000]
    sellerops reprice replay --listings LISTINGS.csv --notifications FILE.jsonl [--json]
    sellerops audit --reports DIR [--as-of YYYY-MM-DD] [--costs COSTS.csv] [--json]

Heavy modules (moto, the simulator) are imported inside each command so that
``sellerops --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sellerops",
        description="Serverless automation for Amazon sellers: repricer, FBA audit, "
        "customer-success notifications. Runs locally on an embedded AWS stack (moto).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run the whole product on the local stack and a simulated marketplace"
    )
    demo.add_argument("--seed", type=int, default=1, help="random seed of the market (1)")
    demo.add_argument("--sellers", type=_positive, default=2, help="number of sellers (2)")
    demo.add_argument("--skus", type=_positive, default=50, help="SKUs per seller (50)")
    demo.add_argument("--days", type=_positive, default=14, help="simulated days (14)")
    demo.add_argument("--json", action="store_true", help="print one JSON document only")
    demo.add_argument("--out", default="out/demo", help="folder of the HTML report (out/demo)")
    demo.add_argument("--record", metavar="FILE.jsonl", default=None,
                      help="also write every notification sent, one JSON per line (the "
                      "input of `sellerops reprice replay --notifications`)")
    demo.add_argument("--workers", type=_positive, default=None,
                      help="processes to split the sellers over, each with its own local "
                      "stack (default: one per CPU, at most one per seller); the result "
                      "does not depend on it")

    local = commands.add_parser(
        "local", help="serve the whole stack on 127.0.0.1 until Ctrl-C (API, pollers, schedules)"
    )
    local.add_argument("--port", type=_port, default=3000, help="API port (3000)")

    reprice = commands.add_parser("reprice", help="repricer tools that need no AWS")
    reprice_commands = reprice.add_subparsers(
        dest="reprice_command", required=True, metavar="COMMAND"
    )
    replay = reprice_commands.add_parser(
        "replay",
        help="dry-run the strategy engine on recorded SP-API notifications",
        description="Replay notifications (one SP-API notification JSON per line) against "
        "the listings of a Listings CSV, in file order with state carried between lines, "
        "and print each decision. No AWS, nothing is submitted.",
    )
    replay.add_argument("--listings", required=True, metavar="LISTINGS.csv",
                        help="Listings CSV (columns: docs/REPRICING.md)")
    replay.add_argument("--notifications", required=True, metavar="FILE.jsonl",
                        help="one notification JSON per line")
    replay.add_argument("--json", action="store_true",
                        help="print only JSON lines (one per decision) on stdout")

    from functions.audit.cli import add_audit_arguments  # argparse only: cheap to import

    add_audit_arguments(commands.add_parser(
        "audit", help="audit downloaded FBA report files for claims (no AWS)",
        description="Audit report files downloaded from Seller Central / the Reports API "
        "and print the claims: open or expired, with amount, deadline and evidence. "
        "Files are recognised by their header row (docs/AUDIT.md)."))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from infra.demo import run_demo

        return run_demo(
            seed=args.seed, sellers=args.sellers, skus=args.skus, days=args.days,
            as_json=args.json, out_dir=args.out, record=args.record, workers=args.workers,
        )
    if args.command == "local":
        from infra.local.server import run_local

        run_local(port=args.port, out=sys.stdout)
        return 0
    if args.command == "reprice" and args.reprice_command == "replay":
        from functions.reprice.replay import run_replay

        return run_replay(args.listings, args.notifications, as_json=args.json,
                          out=sys.stdout, err=sys.stderr)
    if args.command == "audit":
        from functions.audit.cli import run_audit_command

        return run_audit_command(args, out=sys.stdout, err=sys.stderr)
    raise AssertionError(f"unhandled command {args.command}")  # argparse prevents this


if __name__ == "__main__":
    raise SystemExit(main())
