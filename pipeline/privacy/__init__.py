"""Erasure of a person (GDPR Art. 17, COPPA deletion) and retention per data class.

- :mod:`pipeline.privacy.erasure`: remove one user's identity entries, events,
  scores, alerts and review items from PostgreSQL, clear their webhook payloads
  and audit commitment salts, and write a receipt (docs/erasure.md).
- :mod:`pipeline.privacy.tombstones`: find the user's keys on the compacted
  topics (identity map, table changelogs, ``scores.latest``) and tombstone them.
- :mod:`pipeline.privacy.retention`: days per data class and jurisdiction, the
  job that enforces them and its report.
"""
