"""An asyncio-friendly confluent-kafka producer that waits for broker acknowledgement.

``send_all`` resolves only when every record is acknowledged by all in-sync
replicas (``acks=all``, idempotent producer), so the HTTP door can promise
"accepted" truthfully. A background thread serves delivery callbacks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, Producer

from pipeline.errors import WardstreamError


class ProduceFailed(WardstreamError):
    """The broker did not acknowledge a record in time; the caller should retry later.

    ``retry_after`` is a suggestion in seconds. Retrying is safe: event ids
    make the pipeline drop the second copy.
    """

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def base_config(bootstrap: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "compression.type": "lz4",
        "message.max.bytes": 2_000_000,
    }


class AckedProducer:
    def __init__(self, bootstrap: str, extra: dict[str, Any] | None = None) -> None:
        self._producer = Producer({**base_config(bootstrap), **(extra or {})})
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-acks", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    async def send_all(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], timeout: float
    ) -> None:
        """Produce ``(key, value)`` records; return once all are acknowledged."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []

        def deliver(future: asyncio.Future[None]) -> Any:
            def on_delivery(err: KafkaError | None, _msg: Any) -> None:
                def settle() -> None:
                    if future.done():
                        return
                    if err is None:
                        future.set_result(None)
                    else:
                        future.set_exception(ProduceFailed(f"broker refused: {err.str()}"))
                loop.call_soon_threadsafe(settle)
            return on_delivery

        for key, value in records:
            future: asyncio.Future[None] = loop.create_future()
            futures.append(future)
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=deliver(future))
            except BufferError:
                self._producer.poll(0.5)
                self._producer.produce(topic, value=value, key=key, on_delivery=deliver(future))
        try:
            await asyncio.wait_for(asyncio.gather(*futures), timeout)
        except TimeoutError:
            raise ProduceFailed(f"broker did not acknowledge within {timeout:.0f}s") from None

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._stop.set()
        self._poller.join(timeout=2)
