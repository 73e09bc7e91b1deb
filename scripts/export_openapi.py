"""Write the API's OpenAPI document to docs/openapi.json (or check it is up to date).

    python scripts/export_openapi.py           # (re)write docs/openapi.json
    python scripts/export_openapi.py --check   # exit 1 if the file differs from the code

The document is generated from the routes and models of functions/api
(``functions.api.openapi.openapi_json``); tests/unit/test_openapi_up_to_date.py fails when
the checked-in file drifts from the code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "openapi.json"


def render() -> str:
    # Exporting must not trace or need AWS: only the route table is read.
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from functions.api.openapi import openapi_json

    return openapi_json() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, do not write")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run python scripts/export_openapi.py")
            return 1
        print(f"{args.output} is up to date")
        return 0
    if current != text:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(f"{args.output} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
