"""Validation against the CyberTipline XSD kept in ``schemas/ncmec/`` (lxml).

Both the builder (before anything is written or sent) and the stand-in (on
every submit and fileinfo) use the same file, so a document the stand-in
accepts is one our builder could have produced.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from lxml import etree

from pipeline.ncmec.errors import ReportXmlInvalid

XSD_NAME: Final = "cybertip-report.xsd"
MAX_DOCUMENT_BYTES: Final = 4 * 1024 * 1024


def schema_path() -> Path:
    """``$WARDSTREAM_SCHEMA_DIR/ncmec`` or the repository's ``schemas/ncmec``."""
    configured = os.environ.get("WARDSTREAM_SCHEMA_DIR")
    base = Path(configured) if configured else Path(__file__).resolve().parents[2] / "schemas"
    return base / "ncmec" / XSD_NAME


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_path())))


def _parser() -> etree.XMLParser:
    # No entities, no network, no DTDs: documents come from outside in the stand-in.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False)


def problems(document: bytes, root: str) -> list[str]:
    """Every reason ``document`` is not a valid ``<root>``; empty when it is."""
    if len(document) > MAX_DOCUMENT_BYTES:
        return [f"document is larger than {MAX_DOCUMENT_BYTES} bytes"]
    try:
        tree = etree.fromstring(document, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"malformed XML: {exc}"]
    if tree.tag != root:
        return [f"root element is <{tree.tag}>, expected <{root}>"]
    schema = _schema()
    if schema.validate(tree):
        return []
    log: Iterable[Any] = schema.error_log  # type: ignore[assignment]  # iterable; stubs lag
    return [f"line {e.line}: {e.message}" for e in log]


def validate(document: bytes, root: str) -> None:
    """Raise :class:`ReportXmlInvalid` unless ``document`` is a valid ``<root>``."""
    found = problems(document, root)
    if found:
        raise ReportXmlInvalid(f"<{root}>", found)


def parse(document: bytes) -> etree._Element:
    """A document already validated by :func:`problems`, as an element tree."""
    return etree.fromstring(document, _parser())
