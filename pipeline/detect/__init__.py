"""Behavioural detectors: pure per-key steps over normalised events.

Each detector is ``step(key, state, event, ...) -> (state, signals)`` on a
small state record with a compact binary codec, so the in-process harness
(``pipeline.core``), ``wardstream replay`` and the Faust agents run the same
code. Keys: the unordered pair (``pair``), the acting user (``actor``), the
minor being approached (``target``). ``routing`` says which keys an event
reaches; ``annotate`` adds stage probabilities to a message once, before the
fan-out.
"""
