"""``wardstream duties``: the periodic jobs (evidence, webhooks, audit heads, expiry,
retention) in one process, each on its own interval and isolated from the others.

``scheduler`` is the pure loop, ``config`` the names and intervals, ``jobs`` the
duties over PostgreSQL, ``command`` the CLI. See docs/duties.md.
"""
