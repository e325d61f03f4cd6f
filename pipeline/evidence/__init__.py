"""Evidence preservation: packages built around alerts and escalations (docs/evidence.md).

Pure parts (``policy``, ``package``, ``requests``) import no I/O library; the
PostgreSQL adapters (``gather``, ``store``, ``builder``, ``retention``), the
HTTP routes (``routes``) and the command (``command``) sit beside them.
"""
