"""Which pairs of users a stored conversation holds (the compatibility API's sessions).

A conversation is named by its pseudonym (``c_...``); every query filters on
the tenant, so another tenant's conversation is simply not found.
"""

from __future__ import annotations

import psycopg

# Pairs from messages and media that name a conversation: the sender and each recipient.
_PAIRS = """
SELECT DISTINCT LEAST(e.actor, r.recipient), GREATEST(e.actor, r.recipient)
FROM events e CROSS JOIN LATERAL jsonb_array_elements_text(
    COALESCE(e.record->'recipients', '[]'::jsonb)) AS r(recipient)
WHERE e.tenant_id = %s AND e.record->>'conversation' = %s AND e.actor <> r.recipient
ORDER BY 1, 2
LIMIT %s
"""


def conversation_pairs(conn: psycopg.Connection, tenant_id: str, conversation: str,
                       limit: int) -> tuple[list[tuple[str, str]], bool]:
    """Up to ``limit`` distinct pairs (each as the sorted two pseudonyms) that
    exchanged messages or media in ``conversation``; True when more were left out."""
    rows = conn.execute(_PAIRS, (tenant_id, conversation, limit + 1)).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows[:limit]], len(rows) > limit
