"""The tamper-evident audit log: a per-tenant append-only Merkle log (docs/audit.md).

``merkle`` is the RFC 6962 / RFC 9162 maths, ``records`` the leaf encoding,
``signing`` the Ed25519 tree heads, ``export`` and ``verify`` the offline
document and its checker, ``store`` the PostgreSQL side and ``command`` the
``wardstream audit`` subcommands. Everything except ``store`` and ``command``
is pure: no I/O.
"""
