-- Running workers apply erasures from erasure_requests (agents/erasures.py): they
-- poll for rows stored since their last look, by the database's own clock.
CREATE INDEX erasure_requests_stored ON erasure_requests (stored_at);
