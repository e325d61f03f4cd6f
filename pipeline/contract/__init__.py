"""The platform event contract, version 1 (shared/spec/events.md), as code.

``parse_json`` turns bytes into a JSON object safely; ``validate_event`` checks
an object against the contract and returns a :class:`ValidEvent`. The same
rules serve the HTTP door, the Kafka JSON and Avro topics and ``replay``.
"""

from pipeline.contract.parse import MAX_RECORD_BYTES, parse_json
from pipeline.contract.validate import (
    EARLIEST_EVENT_TIME,
    LATEST_EVENT_TIME,
    ValidEvent,
    validate_batch_ids,
    validate_event,
)

__all__ = [
    "EARLIEST_EVENT_TIME",
    "LATEST_EVENT_TIME",
    "MAX_RECORD_BYTES",
    "ValidEvent",
    "parse_json",
    "validate_batch_ids",
    "validate_event",
]
