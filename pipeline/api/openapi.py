"""The API's OpenAPI document as the app serves it, checked in as docs/openapi.json.

    python -m pipeline.api.openapi --write   # after changing a route
    python -m pipeline.api.openapi --check   # exit 1 when docs/openapi.json is stale

``tests/unit/test_openapi_doc.py`` runs the comparison, so the checked-in
document cannot drift from the served one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.api.app import create_app
from pipeline.settings import REPO_ROOT, Settings

DOC_PATH = REPO_ROOT / "docs" / "openapi.json"


def document() -> dict[str, Any]:
    """The served document; built from default settings, never from the environment."""
    return create_app(Settings.model_construct()).openapi()


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.api.openapi")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help=f"write {DOC_PATH.name}")
    action.add_argument("--check", action="store_true", help="exit 1 when it is stale")
    parser.add_argument("--path", type=Path, default=DOC_PATH)
    args = parser.parse_args(argv)
    text = render(document())
    if args.write:
        args.path.write_text(text, encoding="utf-8")
        print(f"wrote {args.path}")
        return 0
    current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
    if current != text:
        print(f"{args.path} is stale: run python -m pipeline.api.openapi --write",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
