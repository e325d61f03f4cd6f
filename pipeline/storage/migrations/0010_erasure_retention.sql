-- Erasure (GDPR Art. 17, COPPA deletion) and retention (pipeline/privacy, docs/erasure.md).
--
-- erasure_requests: one row per request, holding the receipt the API returned.
-- It names the person only by pseudonym (never the platform's raw id), so a
-- later request for the same person finds the earlier ones, and the receipt
-- can be shown to the person or a regulator. Kept: it is the record that the
-- erasure happened (GDPR Art. 5(2) accountability).
CREATE TABLE erasure_requests (
    request_id    text PRIMARY KEY CHECK (request_id ~ '^era_[0-9a-f]{32}$'),
    tenant_id     text NOT NULL REFERENCES tenants (tenant_id),
    subject       text NOT NULL,          -- the user pseudonym
    reason        text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    requested_by  text NOT NULL CHECK (length(btrim(requested_by)) BETWEEN 1 AND 256),
    requested_at  timestamptz NOT NULL,   -- the caller's clock (injected in tests)
    receipt       jsonb NOT NULL,
    audit_seq     bigint NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasure_requests_subject ON erasure_requests (tenant_id, subject, requested_at);

-- One row per retention run that changed data (wardstream retention run; a dry
-- run stores nothing): per data class what was past its limit, what was removed
-- and what a legal hold kept.
CREATE TABLE retention_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ran_at          timestamptz NOT NULL,  -- the job's clock: every cutoff is measured from it
    config_sha256   text NOT NULL CHECK (config_sha256 ~ '^[0-9a-f]{64}$'),
    tenants         text[],                -- the run's scope; NULL: every tenant
    results         jsonb NOT NULL,        -- {class: {"removed": n, "held": n}}
    stored_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retention_runs_time ON retention_runs (ran_at DESC);

-- The evidence schema gives the service role no SELECT on packages (0007). Erasure
-- and retention need to know, without reading content, which packages concern a
-- person and which people are under legal hold: two SECURITY DEFINER functions
-- answer exactly that. Created in schema evidence when this role may (the dev
-- cluster, or migrations run as the schema's owner); otherwise a NOTICE says so
-- and a DBA creates them as the owner (docs/erasure.md).
DO $migration$
DECLARE
    service text := current_user;
    owner text;
    granted boolean := false;
BEGIN
    -- Where 0007 handed the schema to wardstream_evidence, a role that may create
    -- roles joins it for the hand-over, as 0007 did, and leaves it after.
    SELECT nspowner::regrole::text INTO owner FROM pg_namespace WHERE nspname = 'evidence';
    IF owner <> service AND NOT pg_has_role(service, owner, 'USAGE')
       AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = service) THEN
        EXECUTE format('GRANT %I TO %I', owner, service);
        granted := true;
    END IF;
    EXECUTE $fn$
    CREATE FUNCTION evidence.packages_concerning(p_tenant text, p_pseudonym text)
    RETURNS TABLE (package_id text, relation text, built_at timestamptz,
                   retain_until timestamptz, on_hold boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        SELECT p.package_id,
               CASE WHEN p.actor = p_pseudonym THEN 'subject' ELSE 'named' END,
               p.built_at, p.retain_until, p.on_hold
        FROM evidence.packages p
        WHERE p.tenant_id = p_tenant
          AND (p.actor = p_pseudonym
               OR position(convert_to(p_pseudonym, 'UTF8') IN p.content) > 0)
        ORDER BY p.package_id
    $body$
    $fn$;
    EXECUTE $fn$
    CREATE FUNCTION evidence.held_subjects(p_tenant text)
    RETURNS TABLE (actor text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        SELECT DISTINCT p.actor FROM evidence.packages p
        WHERE p.tenant_id = p_tenant AND p.on_hold
    $body$
    $fn$;
    REVOKE ALL ON FUNCTION evidence.packages_concerning(text, text) FROM PUBLIC;
    REVOKE ALL ON FUNCTION evidence.held_subjects(text) FROM PUBLIC;
    IF owner <> service THEN
        EXECUTE format('ALTER FUNCTION evidence.packages_concerning(text, text) OWNER TO %I',
                       owner);
        EXECUTE format('ALTER FUNCTION evidence.held_subjects(text) OWNER TO %I', owner);
    END IF;
    -- After the owner change, which drops what the old owner held.
    EXECUTE format('GRANT EXECUTE ON FUNCTION evidence.packages_concerning(text, text),'
                   ' evidence.held_subjects(text) TO %I', service);
    IF granted THEN
        EXECUTE format('REVOKE %I FROM %I', owner, service);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'erasure: % may not create functions in schema evidence; a DBA creates '
        'evidence.packages_concerning and evidence.held_subjects as its owner '
        '(docs/erasure.md); until then erasure and retention refuse to run', service;
END;
$migration$;
