"""The SDKs' shared files cannot drift from the pipeline: the exported stage model
(sdk/model/stage_model.json) and the privacy-mode vectors (sdk/vectors/privacy.json)
are regenerated from the pipeline's own code and compared byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from pipeline.detect.text.export import DEFAULT_OUTPUT, main, to_json_text
from pipeline.detect.text.model import load_model
from pipeline.webhooks import signing
from tests.unit.sdk_vectors import (
    TEXTS,
    VECTORS,
    WEBHOOK_VECTORS,
    build,
    build_webhook,
    render,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_exported_model_is_the_shipped_seed_model() -> None:
    assert DEFAULT_OUTPUT == REPO / "sdk" / "model" / "stage_model.json"
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == to_json_text(load_model()), (
        "sdk/model/stage_model.json drifted: python -m pipeline.detect.text.export --write")
    assert main(["--check"]) == 0


def test_the_python_sdk_ships_the_exported_model() -> None:
    bundled = REPO / "sdk" / "python" / "wardstream" / "stage_model.json"
    assert bundled.read_bytes() == DEFAULT_OUTPUT.read_bytes()


def test_the_export_holds_every_weight_of_the_model() -> None:
    model = load_model()
    document = json.loads(DEFAULT_OUTPUT.read_text(encoding="utf-8"))
    assert document["intercepts"] == list(model.intercepts)
    for stage, weights in enumerate(model.weights):
        exported = {k: v for k, v in zip(document["keys"], document["values"][stage],
                                         strict=True) if v != 0.0}
        assert exported == weights


def test_the_vectors_are_what_the_pipeline_computes() -> None:
    assert VECTORS.read_text(encoding="utf-8") == render(build()), (
        "sdk/vectors/privacy.json drifted: python -m tests.unit.sdk_vectors --write")


def test_the_vectors_are_not_near_a_quantisation_boundary() -> None:
    # Two correct extractors may differ in the last bits; none of the vectors may sit
    # where that could change a quantised byte.
    for vector in build()["vectors"]:
        for p in vector["content_signals"].values():
            scaled = p * 255 + 0.5
            assert abs(scaled - round(scaled)) > 1e-6, vector["text"]
    assert len(TEXTS) == len(set(TEXTS))


def test_the_webhook_vectors_are_the_pipeline_scheme() -> None:
    assert WEBHOOK_VECTORS.read_text(encoding="utf-8") == render(build_webhook()), (
        "sdk/vectors/webhook.json drifted: python -m tests.unit.sdk_vectors --write")
    document = build_webhook()
    for case in document["cases"]:
        try:
            signing.verify(document["secret"], document["body"].encode(), case["header"],
                           now=case["now"])
            valid = True
        except signing.SignatureError:
            valid = False
        assert valid == case["valid"], case["name"]


def test_the_node_unicode_tables_are_this_python_s() -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_unicode", REPO / "sdk" / "node" / "scripts" / "gen_unicode.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (REPO / "sdk" / "node" / "src" / "unicode.ts").read_text(encoding="utf-8") == (
        module.render()), "unicode.ts drifted: python sdk/node/scripts/gen_unicode.py --write"
