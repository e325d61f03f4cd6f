"""A Faust GlobalTable that honours the changelog topic it is given.

Faust 0.15's partition assignor finds a global table's changelog by the
default name ``<app id>-<table>-changelog`` instead of the topic the table was
created with, and the group's first assignment then fails with a KeyError that
Faust swallows: the worker sits in "performing partition assignments" for ever.
Our topic names come from ``topologies/``, so global tables use this class
(``faust.App(GlobalTable=...)``).
"""

from __future__ import annotations

import faust


class NamedChangelogGlobalTable(faust.GlobalTable):  # type: ignore[misc]
    def _changelog_topic_name(self) -> str:
        topic = self._changelog_topic
        if topic is None:
            return str(super()._changelog_topic_name())
        return str(topic.get_topic_name())
