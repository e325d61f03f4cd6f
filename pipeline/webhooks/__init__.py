"""Webhooks: alerts POSTed, signed, to endpoints the tenants register.

``signing`` (stdlib only, for SDKs to copy), ``addresses`` (which targets may
be called), ``sealing`` (signing secrets sealed at rest), ``payload`` (the body),
``evidence_hook`` (where evidence packages will plug in),
``retry`` (what a response means and when to try again), ``store`` (the
PostgreSQL outbox), ``sender`` (one HTTP attempt), ``dispatcher`` (the loop),
``api`` (the admin routes) and ``command`` (``wardstream webhooks``).
"""
