-- NCMEC CyberTipline reports (pipeline/ncmec, docs/ncmec.md): one row per
-- report we file, keyed by a key derived from the evidence package and the
-- human confirmation, so a second "submit" of the same confirmed package
-- finds this row instead of filing again.
--
-- The row holds the state of the submission and NCMEC's ids only: no names,
-- screen names, addresses or message text. The report itself is rebuilt from
-- the input on every run and checked against xml_sha256.
--
-- States (pipeline/ncmec/states.py):
--   built -> submitting -> submitted -> files_uploaded -> finished
--   submitted | files_uploaded -> retracting -> retracted
--   any unfinished state -> failed (NCMEC refused; nothing is filed, or it was retracted)
--   submitting (after a crash or an unanswered submit) -> needs_reconciliation
--     -> submitted (an operator found the report at NCMEC) | built (it was never filed)
CREATE TABLE ncmec_reports (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id),
    report_key       text NOT NULL CHECK (report_key ~ '^[0-9a-f]{32}$'),
    package_id       text NOT NULL,
    confirmation_id  text NOT NULL,
    state            text NOT NULL CHECK (state IN (
        'built', 'submitting', 'submitted', 'files_uploaded', 'finished',
        'retracting', 'retracted', 'failed', 'needs_reconciliation')),
    xml_sha256       bytea NOT NULL CHECK (octet_length(xml_sha256) = 32),
    file_count       integer NOT NULL CHECK (file_count >= 0),
    ncmec_report_id  bigint,
    -- attachment index (as text) -> NCMEC file id; described: indexes whose fileinfo was accepted
    file_ids         jsonb NOT NULL DEFAULT '{}'::jsonb,
    described        jsonb NOT NULL DEFAULT '[]'::jsonb,
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),   -- HTTP calls that failed
    submit_rounds    integer NOT NULL DEFAULT 0 CHECK (submit_rounds >= 0),  -- entries into submitting
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    submitted_at     timestamptz,
    finished_at      timestamptz,
    PRIMARY KEY (tenant_id, report_key),
    UNIQUE (tenant_id, package_id, confirmation_id),
    -- A state past submit always knows NCMEC's report id.
    CHECK (state NOT IN ('submitted', 'files_uploaded', 'finished', 'retracting', 'retracted')
           OR ncmec_report_id IS NOT NULL)
);
CREATE UNIQUE INDEX ncmec_reports_ncmec_id ON ncmec_reports (tenant_id, ncmec_report_id)
    WHERE ncmec_report_id IS NOT NULL;
CREATE INDEX ncmec_reports_open ON ncmec_reports (tenant_id, state)
    WHERE state NOT IN ('finished', 'retracted');
