-- Decisions posted over HTTP (POST /v1/decisions) close review items. The
-- closing moderation event's id is kept on the item, so a retried request
-- (same Idempotency-Key, hence the same event id) finds the item it closed
-- before and answers the same. 0003 already has status, decision,
-- decision_note, closed_at (when decided) and closed_by (who decided).
ALTER TABLE review_queue ADD COLUMN decision_event_id text;
CREATE INDEX review_queue_decision_event ON review_queue (tenant_id, decision_event_id)
    WHERE decision_event_id IS NOT NULL;
