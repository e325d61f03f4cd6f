-- Webhooks: tenants' endpoints and an outbox of deliveries (pipeline/webhooks/).
-- The dispatcher enqueues one delivery per (alert, active endpoint of the alert's
-- tenant), claims due ones with FOR UPDATE SKIP LOCKED, and records every attempt.

-- A tenant's endpoint. The signing secret must stay usable for HMAC, so it is kept
-- sealed (AES-256-GCM under a key derived from the pseudonym master key, bound to
-- tenant and endpoint id: pipeline/webhooks/sealing.py), never in plain text.
-- Deleting an endpoint sets disabled_at; its deliveries stay for the record.
CREATE TABLE webhook_endpoints (
    endpoint_id     text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (tenant_id),
    url             text NOT NULL CHECK (length(url) <= 2048),
    description     text NOT NULL DEFAULT '',
    secret_sealed   bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id)
    WHERE disabled_at IS NULL;

-- One row per (endpoint, alert): the delivery id is derived from both, so enqueueing
-- twice (two dispatchers, a restart) adds nothing, and every attempt and replay of
-- the delivery carries the same id and the same payload.
-- payload holds the tenant's own raw user and conversation ids (only ever sent to
-- that tenant); actor (the pseudonym) lets an erasure find and clear them.
-- attempt_base is the attempt count when the delivery was last replayed: a replay
-- gets a fresh budget of attempts while attempt numbers keep counting up.
CREATE TABLE webhook_deliveries (
    delivery_id      text PRIMARY KEY,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (endpoint_id),
    tenant_id        text NOT NULL,
    alert_id         text NOT NULL,   -- no foreign key: erasing alerts must not need us
    actor            text NOT NULL,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    attempt_base     integer NOT NULL DEFAULT 0 CHECK (attempt_base >= 0),
    replays          integer NOT NULL DEFAULT 0 CHECK (replays >= 0),
    next_attempt_at  timestamptz NOT NULL,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    dead_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, alert_id),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK ((status = 'dead') = (dead_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at);
CREATE INDEX webhook_deliveries_actor ON webhook_deliveries (tenant_id, actor);

-- Every attempt, once: the key refuses a second row for the same attempt number.
CREATE TABLE webhook_attempts (
    delivery_id  text NOT NULL REFERENCES webhook_deliveries (delivery_id),
    attempt      integer NOT NULL CHECK (attempt >= 1),
    started_at   timestamptz NOT NULL,
    status_code  integer,
    error        text,
    outcome      text CHECK (outcome IN ('delivered', 'retry', 'dead')),
    PRIMARY KEY (delivery_id, attempt)
);

-- The dead letters: deliveries that will not be tried again unless replayed.
CREATE VIEW webhook_dead_letters AS
SELECT delivery_id, tenant_id, endpoint_id, alert_id, event, attempts, replays,
       last_status_code, last_error, dead_at, created_at
FROM webhook_deliveries
WHERE status = 'dead';

-- The dispatcher looks for new alerts of a tenant by when they were stored.
CREATE INDEX alerts_tenant_stored ON alerts (tenant_id, stored_at);
