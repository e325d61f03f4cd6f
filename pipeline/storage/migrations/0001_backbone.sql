-- The backbone: tenants and their API keys, normalised events, dead letters,
-- and the identity map (the only place raw platform ids live).

CREATE TABLE tenants (
    tenant_id   text PRIMARY KEY CHECK (tenant_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Keys are shown once; only a SHA-256 of the secret part is kept.
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    key_hash    bytea NOT NULL,
    scopes      text[] NOT NULL,
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- One row per (tenant, event id): replays and retries upsert onto it.
-- Raw content sits in its own column so retention can clear it in place.
CREATE TABLE events (
    tenant_id       text NOT NULL,
    event_id        text NOT NULL,
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    utc_offset_min  smallint NOT NULL,
    actor           text NOT NULL,
    record          jsonb NOT NULL,
    content         text,
    source          text NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX events_actor_time ON events (tenant_id, actor, occurred_at);
CREATE INDEX events_time ON events (occurred_at);

-- Keyed by where the record came from (topic/partition/offset), so replaying
-- the input never adds a second row.
CREATE TABLE dead_letters (
    dead_letter_id  text PRIMARY KEY,
    source          text NOT NULL,
    received_at     timestamptz NOT NULL,
    tenant_id       text,
    field           text NOT NULL,
    rule            text NOT NULL,
    reason          text NOT NULL,
    errors          jsonb NOT NULL,
    original        bytea NOT NULL,
    original_sha256 text NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_tenant_time ON dead_letters (tenant_id, received_at);

CREATE TABLE identity_map (
    tenant_id     text NOT NULL,
    kind          text NOT NULL,
    pseudonym     text NOT NULL,
    value         text NOT NULL,
    owner         text NOT NULL,
    first_seen_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind, pseudonym)
);
CREATE INDEX identity_map_owner ON identity_map (tenant_id, owner);
