"""Write the transformed template (plain CloudFormation, expanded offline) to a file.

    python scripts/render_template.py [OUT] [--param Name=Value ...]

OUT defaults to out/template.transformed.json. cfn-lint and checkov read this file in
scripts/check-template.sh: linting only the SAM template misses errors in what SAM
generates (references, runtimes, enum values of the expanded resources).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from infra.template import ROOT, TEMPLATE_PATH, load_sam, transform


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "out" / "template.transformed.json"))
    parser.add_argument("--template", default=str(TEMPLATE_PATH))
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="parameter value"
    )
    args = parser.parse_args(argv)
    # The translator warns about feature toggles it cannot look up offline; noise here.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    params = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--param expects NAME=VALUE, got {item!r}")
        params[name] = value
    transformed = transform(load_sam(args.template), params)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(transformed, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(transformed.get('Resources', {}))} resources)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
