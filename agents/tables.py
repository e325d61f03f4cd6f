"""Faust tables that tell the agent when a write is safe, and honour named changelogs.

Two gaps in Faust 0.15 that broke our delivery guarantees:

- A table write queues its changelog record in Faust's producer buffer, and the
  consumer's commit "flushes" that buffer with a 0.1 s timeout that returns
  quietly when it runs out. On a busy worker, input offsets could be committed
  while the state that reflects them was still queued; a crash then lost those
  updates. :class:`DurableTable` keeps the future of each write's changelog
  record (``last_changelog``) so the agent acknowledges its input only after it
  is delivered (``agents/acks.py``).
- The partition assignor looks up a GlobalTable's changelog by the default name
  ``<app id>-<table>-changelog`` instead of the topic it was created with, and the
  first assignment then fails with a KeyError that Faust swallows: the worker sits
  in "performing partition assignments" for ever. Our topic names come from
  ``topologies/``, so global tables use :class:`NamedChangelogGlobalTable`.

``agents/app.py`` makes these Faust's table classes (``faust.App(Table=...,
GlobalTable=...)``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust


class _CapturesChangelog:
    """Mixin: remember the future of the newest changelog record sent."""

    last_changelog: asyncio.Future[Any] | None = None

    def on_key_set(self, key: Any, value: Any) -> None:
        table: Any = self
        fut = table.send_changelog(table.partition_for_key(key), key, value)
        partition = fut.message.partition
        table._maybe_set_key_ttl(key, partition)
        table._sensor_on_set(table, key, value)
        self.last_changelog = fut

    def written(self) -> list[asyncio.Future[Any]]:
        """The changelog future of the write just made (empty if none)."""
        fut, self.last_changelog = self.last_changelog, None
        return [] if fut is None else [fut]


class DurableTable(_CapturesChangelog, faust.Table):  # type: ignore[misc]
    pass


class NamedChangelogGlobalTable(_CapturesChangelog, faust.GlobalTable):  # type: ignore[misc]
    def _changelog_topic_name(self) -> str:
        topic = self._changelog_topic
        if topic is None:
            return str(super()._changelog_topic_name())
        return str(topic.get_topic_name())

