"""Export the stage model to portable JSON for the client SDKs' privacy mode.

Platforms in privacy mode never send message text: the SDK (Python and Node)
normalises the text, hashes its n-grams and runs the eight logistic
regressions locally, then sends only ``content_signals`` and
``content_sha256``. To do that without pickle or numpy the SDKs read this
JSON form of the model, which holds exactly the figures of the pickle:

- ``keys``: every bucket that has a weight in any stage, ascending;
- ``values``: one list per stage (``stages`` order), aligned with ``keys``
  (0.0 where that stage has no weight for the bucket);
- ``intercepts``, ``stages``, ``bucket_bits`` and the feature recipe.

Floats are written with Python's shortest round-trip form, so a JSON reader in
any language gets the same IEEE doubles. ``sdk/model/stage_model.json`` is
this export of the shipped seed model; a unit test regenerates it and fails
when the file drifts. Regenerate with::

    python -m pipeline.detect.text.export --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

from pipeline.detect.stages import STAGES
from pipeline.detect.text.features import BUCKET_BITS
from pipeline.detect.text.model import SEED_MODEL_PATH, StageModel, load_model

JSON_KIND: Final = "wardstream.stage_model.json"
JSON_FORMAT: Final = 1
REPO: Final = Path(__file__).resolve().parents[3]
DEFAULT_OUTPUT: Final = REPO / "sdk" / "model" / "stage_model.json"
# How the features are made (pipeline.detect.text.features); the SDKs check it.
FEATURES: Final[dict[str, Any]] = {
    "hash": "crc32",
    "word_seed": "w",
    "bigram_seed": "b",
    "char_seed": "c",
    "max_chars": 2000,
    "word_bigram_bounds": ["<s>", "</s>"],
    "values": "l2_normalised_counts",
}


def to_json_document(model: StageModel) -> dict[str, Any]:
    """The model as a JSON-ready document (see the module docstring)."""
    keys = sorted(set().union(*(w.keys() for w in model.weights)))
    return {
        "kind": JSON_KIND,
        "format": JSON_FORMAT,
        "version": model.version,
        "learned": model.learned,
        "stages": list(STAGES),
        "bucket_bits": BUCKET_BITS,
        "features": FEATURES,
        "intercepts": list(model.intercepts),
        "keys": keys,
        "values": [[float(weights.get(k, 0.0)) for k in keys] for weights in model.weights],
    }


def to_json_text(model: StageModel) -> str:
    """The exact text of the export file (stable: same model, same bytes)."""
    document = to_json_document(model)
    head = {k: v for k, v in document.items() if k not in ("keys", "values")}
    lines = ["{"]
    lines.extend(f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items())
    lines.append(f'  "keys": {json.dumps(document["keys"], separators=(",", ":"))},')
    rows = [json.dumps(row, separators=(",", ":")) for row in document["values"]]
    lines.append('  "values": [\n    ' + ",\n    ".join(rows) + "\n  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SEED_MODEL_PATH,
                        help="the pickled model to export (default: the shipped seed model)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the file")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 when the file differs from a fresh export")
    args = parser.parse_args(argv)
    text = to_json_text(load_model(args.model))
    if args.write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(text)} bytes)")
        return 0
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} differs from the export of {args.model}; "
                  "run python -m pipeline.detect.text.export --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
