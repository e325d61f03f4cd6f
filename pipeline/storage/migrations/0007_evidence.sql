-- Preserved evidence (pipeline/evidence, docs/evidence.md): one package per
-- alert or escalation, kept apart from the normal tables in schema `evidence`,
-- immutable, on a retention clock, readable only with a stated reason.
--
-- Who may do what:
-- - `wardstream_evidence` (NOLOGIN) owns the schema, its tables and functions,
--   when the migrating role may create it or it exists and the migrating role
--   may hand objects to it (the block at the end). Otherwise (the local dev
--   cluster: the service role has no CREATEROLE) everything stays owned by the
--   migrating role; docs/evidence.md gives a DBA's commands to finish the split.
-- - The service role (the role running this migration) gets: USAGE on the
--   schema, SELECT and INSERT on `package_keys` (the outbox's done-marks, no
--   personal data), INSERT on `packages`, and EXECUTE on the functions below.
--   It gets no SELECT, UPDATE or DELETE on packages: reading goes through
--   `read_package` (which logs the access), retention changes through
--   `place_hold` / `release_hold` / `extend_retention`, deletion through
--   `destroy_expired`.
-- - Triggers refuse UPDATE of content and any DELETE or TRUNCATE for every
--   role, the owner included, unless the statement runs inside one of those
--   functions (they set `evidence.retention_path` around their own statement
--   and clear it again); even then a DELETE of a package under hold or whose
--   clock has not run out is refused. The flag stops accidents, not an
--   attacker: any role can set a custom setting, so privileges (no UPDATE or
--   DELETE grant) are what keeps the service role out.

CREATE SCHEMA evidence;

-- One row per package ever built, never removed: the unique key is what makes
-- "one package per alert" hold across concurrent builders and after the
-- package itself is destroyed (the builder skips alerts with a key).
CREATE TABLE evidence.package_keys (
    package_id  text PRIMARY KEY CHECK (package_id ~ '^pkg_[0-9a-f]{32}$'),
    tenant_id   text NOT NULL,
    trigger     text NOT NULL CHECK (trigger IN ('alert', 'escalation')),
    trigger_id  text NOT NULL CHECK (length(trigger_id) BETWEEN 1 AND 256),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, trigger, trigger_id)
);

CREATE TABLE evidence.packages (
    package_id      text PRIMARY KEY REFERENCES evidence.package_keys (package_id),
    tenant_id       text NOT NULL,
    trigger         text NOT NULL,
    trigger_id      text NOT NULL,
    actor           text NOT NULL,          -- the subject's pseudonym
    incident_at     timestamptz NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    jurisdiction    text NOT NULL,
    content         bytea NOT NULL,         -- canonical JSON, exactly the bytes hashed
    content_sha256  bytea NOT NULL CHECK (octet_length(content_sha256) = 32
                                          AND content_sha256 = sha256(content)),
    built_at        timestamptz NOT NULL,   -- the builder's clock: the retention clock starts here
    stored_at       timestamptz NOT NULL DEFAULT now(),
    retain_until    timestamptz NOT NULL CHECK (retain_until > built_at),
    on_hold         boolean NOT NULL DEFAULT false,
    CHECK (window_start <= incident_at AND incident_at <= window_end)
);
CREATE INDEX packages_tenant ON evidence.packages (tenant_id, actor);
CREATE INDEX packages_expiry ON evidence.packages (retain_until) WHERE NOT on_hold;

-- Legal holds, their releases and extensions (law-enforcement requests), oldest first.
CREATE TABLE evidence.retention_actions (
    action_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    package_id           text NOT NULL REFERENCES evidence.package_keys (package_id),
    tenant_id            text NOT NULL,
    action               text NOT NULL CHECK (action IN ('hold', 'release', 'extend')),
    acted_by             text NOT NULL,   -- API key id
    reference            text NOT NULL CHECK (length(reference) BETWEEN 1 AND 256),
    days                 integer CHECK (days BETWEEN 1 AND 3650),
    retain_until_before  timestamptz NOT NULL,
    retain_until_after   timestamptz NOT NULL,
    acted_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retention_actions_package ON evidence.retention_actions (tenant_id, package_id);

-- Every read of a package, with the reader's stated reason.
CREATE TABLE evidence.access_log (
    access_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    package_id   text NOT NULL REFERENCES evidence.package_keys (package_id),
    tenant_id    text NOT NULL,
    reader       text NOT NULL,           -- API key id
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    accessed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_log_package ON evidence.access_log (tenant_id, package_id, access_id);

-- What is left of a destroyed package: its key, its hash, when and why it went.
CREATE TABLE evidence.destructions (
    package_id      text PRIMARY KEY REFERENCES evidence.package_keys (package_id),
    tenant_id       text NOT NULL,
    actor           text NOT NULL,
    content_sha256  bytea NOT NULL,
    retain_until    timestamptz NOT NULL,
    destroyed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION evidence.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence.% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE FUNCTION evidence.guard_package() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    path text := coalesce(current_setting('evidence.retention_path', true), '');
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF path <> 'destroy' THEN
            RAISE EXCEPTION 'evidence package %: DELETE refused; packages go only through '
                'evidence.destroy_expired()', OLD.package_id USING ERRCODE = 'restrict_violation';
        END IF;
        IF OLD.on_hold OR OLD.retain_until > now() THEN
            RAISE EXCEPTION 'evidence package %: DELETE refused; it is under hold or its '
                'clock runs until %', OLD.package_id, OLD.retain_until
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF path NOT IN ('retention', 'release') THEN
        RAISE EXCEPTION 'evidence package %: UPDATE refused; holds and extensions go through '
            'evidence.place_hold(), evidence.release_hold() and evidence.extend_retention()',
            OLD.package_id USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.package_id, NEW.tenant_id, NEW.trigger, NEW.trigger_id, NEW.actor, NEW.incident_at,
        NEW.window_start, NEW.window_end, NEW.jurisdiction, NEW.content, NEW.content_sha256,
        NEW.built_at, NEW.stored_at)
       IS DISTINCT FROM
       (OLD.package_id, OLD.tenant_id, OLD.trigger, OLD.trigger_id, OLD.actor, OLD.incident_at,
        OLD.window_start, OLD.window_end, OLD.jurisdiction, OLD.content, OLD.content_sha256,
        OLD.built_at, OLD.stored_at) THEN
        RAISE EXCEPTION 'evidence package %: its content never changes', OLD.package_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.retain_until < OLD.retain_until
       OR (OLD.on_hold AND NOT NEW.on_hold AND path <> 'release') THEN
        RAISE EXCEPTION 'evidence package %: the clock only moves later and a hold stays '
            'until released', OLD.package_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER packages_guard BEFORE UPDATE OR DELETE ON evidence.packages
    FOR EACH ROW EXECUTE FUNCTION evidence.guard_package();
CREATE TRIGGER packages_no_truncate BEFORE TRUNCATE ON evidence.packages
    FOR EACH STATEMENT EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER package_keys_append_only BEFORE UPDATE OR DELETE ON evidence.package_keys
    FOR EACH ROW EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER package_keys_no_truncate BEFORE TRUNCATE ON evidence.package_keys
    FOR EACH STATEMENT EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER retention_actions_append_only BEFORE UPDATE OR DELETE
    ON evidence.retention_actions FOR EACH ROW EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER retention_actions_no_truncate BEFORE TRUNCATE ON evidence.retention_actions
    FOR EACH STATEMENT EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON evidence.access_log
    FOR EACH ROW EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON evidence.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER destructions_append_only BEFORE UPDATE OR DELETE ON evidence.destructions
    FOR EACH ROW EXECUTE FUNCTION evidence.refuse_change();
CREATE TRIGGER destructions_no_truncate BEFORE TRUNCATE ON evidence.destructions
    FOR EACH STATEMENT EXECUTE FUNCTION evidence.refuse_change();

-- Read one package of a tenant, logging the access first. Nothing is logged
-- (and no row returned) for an unknown package or another tenant's.
CREATE FUNCTION evidence.read_package(p_package_id text, p_tenant text, p_reader text,
                                      p_reason text)
RETURNS TABLE (access_id bigint, accessed_at timestamptz, trigger text, trigger_id text,
               actor text, incident_at timestamptz, jurisdiction text, content bytea,
               content_sha256 bytea, built_at timestamptz, retain_until timestamptz,
               on_hold boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    logged evidence.access_log%ROWTYPE;
BEGIN
    PERFORM 1 FROM evidence.packages p
        WHERE p.package_id = p_package_id AND p.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO evidence.access_log (package_id, tenant_id, reader, reason)
        VALUES (p_package_id, p_tenant, p_reader, p_reason) RETURNING * INTO logged;
    RETURN QUERY
        SELECT logged.access_id, logged.accessed_at, p.trigger, p.trigger_id, p.actor,
               p.incident_at, p.jurisdiction, p.content, p.content_sha256, p.built_at,
               p.retain_until, p.on_hold
        FROM evidence.packages p WHERE p.package_id = p_package_id;
END;
$$;

-- Put a package under legal hold (it is then never destroyed). One row, or
-- none for an unknown package or another tenant's.
CREATE FUNCTION evidence.place_hold(p_package_id text, p_tenant text, p_by text,
                                    p_reference text)
RETURNS TABLE (action_id bigint, acted_at timestamptz, retain_until timestamptz,
               on_hold boolean, actor text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    old_until timestamptz;
    who text;
    done evidence.retention_actions%ROWTYPE;
BEGIN
    SELECT p.retain_until, p.actor INTO old_until, who FROM evidence.packages p
        WHERE p.package_id = p_package_id AND p.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('evidence.retention_path', 'retention', true);
    UPDATE evidence.packages p SET on_hold = true WHERE p.package_id = p_package_id;
    PERFORM set_config('evidence.retention_path', '', true);
    INSERT INTO evidence.retention_actions (package_id, tenant_id, action, acted_by, reference,
                                            retain_until_before, retain_until_after)
        VALUES (p_package_id, p_tenant, 'hold', p_by, p_reference, old_until, old_until)
        RETURNING * INTO done;
    RETURN QUERY SELECT done.action_id, done.acted_at, old_until, true, who;
END;
$$;

-- Release a legal hold (the matter is closed); the clock applies again.
CREATE FUNCTION evidence.release_hold(p_package_id text, p_tenant text, p_by text,
                                      p_reference text)
RETURNS TABLE (action_id bigint, acted_at timestamptz, retain_until timestamptz,
               on_hold boolean, actor text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    old_until timestamptz;
    who text;
    done evidence.retention_actions%ROWTYPE;
BEGIN
    SELECT p.retain_until, p.actor INTO old_until, who FROM evidence.packages p
        WHERE p.package_id = p_package_id AND p.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('evidence.retention_path', 'release', true);
    UPDATE evidence.packages p SET on_hold = false WHERE p.package_id = p_package_id;
    PERFORM set_config('evidence.retention_path', '', true);
    INSERT INTO evidence.retention_actions (package_id, tenant_id, action, acted_by, reference,
                                            retain_until_before, retain_until_after)
        VALUES (p_package_id, p_tenant, 'release', p_by, p_reference, old_until, old_until)
        RETURNING * INTO done;
    RETURN QUERY SELECT done.action_id, done.acted_at, old_until, false, who;
END;
$$;

-- Move a package's clock later by p_days (a law-enforcement preservation request).
CREATE FUNCTION evidence.extend_retention(p_package_id text, p_tenant text, p_by text,
                                          p_reference text, p_days integer)
RETURNS TABLE (action_id bigint, acted_at timestamptz, retain_until timestamptz,
               on_hold boolean, actor text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    old_until timestamptz;
    held boolean;
    who text;
    new_until timestamptz;
    done evidence.retention_actions%ROWTYPE;
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_days > 3650 THEN
        RAISE EXCEPTION 'days must be from 1 to 3650' USING ERRCODE = 'check_violation';
    END IF;
    SELECT p.retain_until, p.on_hold, p.actor INTO old_until, held, who FROM evidence.packages p
        WHERE p.package_id = p_package_id AND p.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    new_until := old_until + make_interval(days => p_days);
    PERFORM set_config('evidence.retention_path', 'retention', true);
    UPDATE evidence.packages p SET retain_until = new_until WHERE p.package_id = p_package_id;
    PERFORM set_config('evidence.retention_path', '', true);
    INSERT INTO evidence.retention_actions (package_id, tenant_id, action, acted_by, reference,
                                            days, retain_until_before, retain_until_after)
        VALUES (p_package_id, p_tenant, 'extend', p_by, p_reference, p_days, old_until, new_until)
        RETURNING * INTO done;
    RETURN QUERY SELECT done.action_id, done.acted_at, new_until, held, who;
END;
$$;

-- Destroy up to p_limit packages whose clock ran out (by this database's
-- clock) and that are not under hold; a tombstone stays in `destructions`.
-- The caller logs each returned package to the audit log in the same transaction.
CREATE FUNCTION evidence.destroy_expired(p_limit integer)
RETURNS TABLE (package_id text, tenant_id text, actor text, content_sha256 bytea,
               retain_until timestamptz, destroyed_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('evidence.retention_path', 'destroy', true);
    RETURN QUERY
    WITH doomed AS (
        SELECT p.package_id FROM evidence.packages p
        WHERE NOT p.on_hold AND p.retain_until <= now()
        ORDER BY p.retain_until, p.package_id
        LIMIT greatest(p_limit, 0)
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM evidence.packages p USING doomed d WHERE p.package_id = d.package_id
        RETURNING p.package_id, p.tenant_id, p.actor, p.content_sha256, p.retain_until
    ), kept AS (
        INSERT INTO evidence.destructions (package_id, tenant_id, actor, content_sha256,
                                           retain_until)
        SELECT g.package_id, g.tenant_id, g.actor, g.content_sha256, g.retain_until FROM gone g
        RETURNING destructions.package_id, destructions.tenant_id, destructions.actor,
                  destructions.content_sha256, destructions.retain_until,
                  destructions.destroyed_at
    )
    SELECT * FROM kept;
    PERFORM set_config('evidence.retention_path', '', true);
END;
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA evidence FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA evidence FROM PUBLIC;

-- The service role's rights, and the hand-over to wardstream_evidence when possible.
DO $$
DECLARE
    service text := current_user;
    can_create boolean;
    granted boolean := false;
BEGIN
    SELECT rolsuper OR rolcreaterole INTO can_create FROM pg_roles WHERE rolname = service;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wardstream_evidence') THEN
        IF NOT can_create THEN
            RAISE NOTICE 'evidence: role wardstream_evidence not created (% may not create '
                'roles); schema evidence stays owned by %; see docs/evidence.md', service,
                service;
            RETURN;
        END IF;
        CREATE ROLE wardstream_evidence NOLOGIN;
    END IF;
    IF NOT pg_has_role(service, 'wardstream_evidence', 'USAGE') THEN
        IF NOT can_create THEN
            RAISE NOTICE 'evidence: % is not a member of wardstream_evidence and may not '
                'become one; schema evidence stays owned by %; see docs/evidence.md',
                service, service;
            RETURN;
        END IF;
        EXECUTE format('GRANT wardstream_evidence TO %I', service);
        granted := true;
    END IF;
    ALTER SCHEMA evidence OWNER TO wardstream_evidence;
    ALTER TABLE evidence.package_keys OWNER TO wardstream_evidence;
    ALTER TABLE evidence.packages OWNER TO wardstream_evidence;
    ALTER TABLE evidence.retention_actions OWNER TO wardstream_evidence;
    ALTER TABLE evidence.access_log OWNER TO wardstream_evidence;
    ALTER TABLE evidence.destructions OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.refuse_change() OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.guard_package() OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.read_package(text, text, text, text) OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.place_hold(text, text, text, text) OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.release_hold(text, text, text, text) OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.extend_retention(text, text, text, text, integer)
        OWNER TO wardstream_evidence;
    ALTER FUNCTION evidence.destroy_expired(integer) OWNER TO wardstream_evidence;
    -- Granted by the new owner (we are still its member): an owner change drops
    -- what the old owner held, grants to itself included.
    EXECUTE format('GRANT USAGE ON SCHEMA evidence TO %I', service);
    EXECUTE format('GRANT SELECT, INSERT ON evidence.package_keys TO %I', service);
    EXECUTE format('GRANT INSERT ON evidence.packages TO %I', service);
    EXECUTE format('GRANT EXECUTE ON FUNCTION evidence.read_package(text, text, text, text),'
                   ' evidence.place_hold(text, text, text, text),'
                   ' evidence.release_hold(text, text, text, text),'
                   ' evidence.extend_retention(text, text, text, text, integer),'
                   ' evidence.destroy_expired(integer) TO %I', service);
    IF granted THEN
        EXECUTE format('REVOKE wardstream_evidence FROM %I', service);
    END IF;
END;
$$;
