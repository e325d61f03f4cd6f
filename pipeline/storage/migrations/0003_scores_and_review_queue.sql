-- Scores, alerts and the review queue (sink_scores; read by the HTTP API).
-- Every write is keyed by a deterministic id from the risk agent, so a record
-- delivered twice after a crash changes nothing.

-- One row per score move: the score, its tier, and each signal's contribution
-- and explanation at that moment (drivers: [{signal, contribution, explanation}]).
CREATE TABLE score_history (
    score_id        text PRIMARY KEY,
    tenant_id       text NOT NULL,
    actor           text NOT NULL,
    score           double precision NOT NULL CHECK (score >= 0 AND score <= 100),
    tier            text NOT NULL,
    previous_tier   text NOT NULL,
    scored_at       timestamptz NOT NULL,   -- event time of the event that moved the score
    event_id        text NOT NULL,
    max_score       double precision NOT NULL,
    first_alert_at  timestamptz,
    explanation     text NOT NULL,
    drivers         jsonb NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX score_history_actor_time ON score_history (tenant_id, actor, scored_at DESC,
                                                        score_id DESC);

-- Each user's newest score. Replaced only by a score at the same or a later
-- event time (at the same time the later record of the partition wins).
CREATE TABLE scores_latest (
    tenant_id       text NOT NULL,
    actor           text NOT NULL,
    score_id        text NOT NULL,
    score           double precision NOT NULL,
    tier            text NOT NULL,
    previous_tier   text NOT NULL,
    scored_at       timestamptz NOT NULL,
    event_id        text NOT NULL,
    max_score       double precision NOT NULL,
    first_alert_at  timestamptz,
    explanation     text NOT NULL,
    drivers         jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, actor)
);
CREATE INDEX scores_latest_rank ON scores_latest (tenant_id, score DESC);

-- One row per upward crossing of the alert tier.
CREATE TABLE alerts (
    alert_id        text PRIMARY KEY,
    tenant_id       text NOT NULL,
    actor           text NOT NULL,
    tier            text NOT NULL,
    score           double precision NOT NULL,
    raised_at       timestamptz NOT NULL,   -- event time of the crossing
    event_id        text NOT NULL,
    explanation     text NOT NULL,
    drivers         jsonb NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_actor_time ON alerts (tenant_id, actor, raised_at);

-- What reviewers work through. An alert opens an item for its user unless one
-- is open already; later alerts for that user raise the open item (newest
-- score, tier, explanation and alert). Reviewers close items later; a new
-- alert after that opens a new item. At most one open item per user.
CREATE TABLE review_queue (
    item_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text NOT NULL,
    actor           text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    score           double precision NOT NULL,
    tier            text NOT NULL,
    explanation     text NOT NULL,
    drivers         jsonb NOT NULL,
    first_alert_id  text NOT NULL REFERENCES alerts (alert_id),
    latest_alert_id text NOT NULL REFERENCES alerts (alert_id),
    alert_count     integer NOT NULL DEFAULT 1 CHECK (alert_count >= 1),
    opened_at       timestamptz NOT NULL,   -- event time of the first alert
    raised_at       timestamptz NOT NULL,   -- event time of the newest alert
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    closed_by       text,                   -- reviewer (pseudonym or key id)
    decision        text,
    decision_note   text,
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE UNIQUE INDEX review_queue_one_open ON review_queue (tenant_id, actor)
    WHERE status = 'open';
CREATE INDEX review_queue_order ON review_queue (tenant_id, score DESC, opened_at, item_id)
    WHERE status = 'open';
