-- API keys: per-key rate limits, and expiry so a key can be rotated with a
-- grace period instead of a cut-over.

ALTER TABLE api_keys
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN rate_per_second real NOT NULL DEFAULT 50
        CHECK (rate_per_second > 0 AND rate_per_second <= 10000),
    ADD COLUMN burst integer NOT NULL DEFAULT 100 CHECK (burst BETWEEN 1 AND 100000),
    ADD COLUMN rotated_to text REFERENCES api_keys (key_id);
