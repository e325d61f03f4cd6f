"""The shared privacy-mode test vectors, computed by the pipeline itself.

``sdk/vectors/privacy.json`` holds, for each text, what the pipeline's own text
path (``pipeline.detect.text``) makes of it: the normalised form, the stage
probabilities (``content_signals``), their quantised bytes (what the detectors
use) and ``content_sha256``. The Python and Node SDKs assert their extractors
against this file; ``test_sdk_vectors.py`` regenerates it and fails when it
drifts from the pipeline. Regenerate after a model or normalisation change::

    python -m tests.unit.sdk_vectors --write

The texts are synthetic and non-explicit: grooming-stage phrasing and benign
look-alikes, plus disguises the normaliser undoes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Final

from pipeline.detect.stages import STAGES
from pipeline.detect.text.model import SEED_MODEL_PATH, load_model
from pipeline.detect.text.normalise import normalise
from pipeline.webhooks import signing

REPO: Final = Path(__file__).resolve().parents[2]
VECTORS: Final = REPO / "sdk" / "vectors" / "privacy.json"
WEBHOOK_VECTORS: Final = REPO / "sdk" / "vectors" / "webhook.json"
MODEL_JSON: Final = REPO / "sdk" / "model" / "stage_model.json"
TOLERANCE: Final = 1e-9

TEXTS: Final[tuple[str, ...]] = (
    # grooming-stage phrasing (non-explicit)
    "how old are you?",
    "what grade are you in",
    "you're so mature for your age",
    "you are really pretty, way smarter than the kids in your class",
    "i can send you some robux if you want",
    "want me to buy you a new skin?",
    "don't tell your parents we talk",
    "this is our secret ok",
    "delete our chat after you read it",
    "your friends don't understand you like i do",
    "your parents are too strict, you can tell me anything",
    "add me on another app",
    "do you have snap? we can talk there",
    "send me a pic of you",
    "can we meet up this weekend? i can pick you up",
    "is anyone home with you right now?",
    # benign look-alikes
    "good game, add me on discord",
    "practice is at 5, bring water",
    "how old is this game anyway",
    "happy birthday! how old are you turning?",
    "my mom says dinner is ready",
    "nice shot, you are really good at this",
    "send me the homework pic when you can",
    "see you at practice tomorrow",
    "lol gg",
    # disguises the normaliser undoes
    "d0nt t3ll y0ur p4r3nts",
    "s e c r e t",
    "s.e.c.r.e.t",
    "sooooo cuuuute",
    "HOW OLD ARE YOU",
    "ｈｏｗ ｏｌｄ ａｒｅ ｙｏｕ",
    "dón't téll ànyone",
    "se\u200bcret",
    "straße und grüße",
    "u r a good friend",
    "i c u",
    "it's 13 not 31",
    "email me: a@b.c $5",
    # edge cases
    "",
    "   ",
    "!!! ??? ...",
    "🙂🙂",
    "ok " * 900,
)


def _entry(text: str, model: Any) -> dict[str, Any]:
    probabilities = model.predict(text) if text else (0.0,) * len(STAGES)
    return {
        "text": text,
        "normalised": normalise(text),
        "content_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "content_signals": dict(zip(STAGES, (float(p) for p in probabilities), strict=True)),
        "stage_bytes": list(model.stage_bytes(text)),
    }


def build() -> dict[str, Any]:
    """The vectors document, from the shipped seed model and the pipeline's code."""
    model = load_model(SEED_MODEL_PATH)
    return {
        "about": ("privacy-mode vectors computed by pipeline.detect.text; regenerate with "
                  "python -m tests.unit.sdk_vectors --write"),
        "model_version": model.version,
        "model_json_sha256": hashlib.sha256(MODEL_JSON.read_bytes()).hexdigest(),
        "tolerance": TOLERANCE,
        "stages": list(STAGES),
        "vectors": [_entry(text, model) for text in TEXTS],
    }


def build_webhook() -> dict[str, Any]:
    """Signature cases made with ``pipeline.webhooks.signing`` (the dispatcher's scheme)."""
    secret = "whsec_vector-secret-0123456789abcdefghijklmnopqrstu"
    body = ('{"event":"alert.raised","alert_id":"9f3c","tenant_id":"acme",'
            '"platform_user_id":"u-17","score":72.0,"explanation":"contact rose – 2→19"}')
    raw = body.encode("utf-8")
    t = 1_772_000_000
    good = signing.signature_header(secret, t, raw)
    mac = good.split("v1=")[1]
    other = signing.signature(secret, t, raw + b" ")
    cases = [
        ("valid", good, t + 10, True),
        ("valid at the edge of the window", good, t + 300, True),
        ("valid, clock behind", good, t - 300, True),
        ("stale", good, t + 301, False),
        ("from the future", good, t - 301, False),
        ("several v1, one matches", f"t={t},v1={other},v1={mac}", t, True),
        ("upper-case hex", f"t={t},v1={mac.upper()}", t, True),
        ("spaces around parts", f"t={t}, v1={mac}", t, True),
        ("other body's signature", f"t={t},v1={other}", t, False),
        ("timestamp changed", f"t={t + 1},v1={mac}", t, False),
        ("no timestamp", f"v1={mac}", t, False),
        ("no signature", f"t={t}", t, False),
        ("malformed", "garbage", t, False),
        ("empty", "", t, False),
        ("timestamp not digits", f"t=17e8,v1={mac}", t, False),
    ]
    return {
        "about": ("webhook signatures made by pipeline.webhooks.signing; regenerate with "
                  "python -m tests.unit.sdk_vectors --write"),
        "secret": secret,
        "body": body,
        "tolerance": signing.DEFAULT_TOLERANCE_SECONDS,
        "cases": [{"name": n, "header": h, "now": now, "valid": v} for n, h, now, v in cases],
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        VECTORS.parent.mkdir(parents=True, exist_ok=True)
        VECTORS.write_text(render(build()), encoding="utf-8")
        WEBHOOK_VECTORS.write_text(render(build_webhook()), encoding="utf-8")
        print(f"wrote {VECTORS} and {WEBHOOK_VECTORS}")
    else:
        sys.stdout.write(render(build()))
