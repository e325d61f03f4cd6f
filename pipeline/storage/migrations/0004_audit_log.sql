-- The tamper-evident audit log (pipeline/audit, docs/audit.md): one append-only
-- Merkle log per tenant, its signed tree heads, and the erasable salts behind
-- the commitments to personal details.
--
-- Leaves and heads are never changed or removed. A trigger refuses UPDATE,
-- DELETE and TRUNCATE for every role, the owner included; only dropping the
-- trigger (a visible schema change) gets past it, and the signed heads held
-- outside the database still expose any rewrite.

CREATE TABLE audit_leaves (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    seq         bigint NOT NULL CHECK (seq >= 0),
    record_id   text NOT NULL,   -- deterministic: appending it again keeps the first
    kind        text NOT NULL,
    leaf        bytea NOT NULL,  -- canonical JSON, exactly the bytes hashed
    leaf_hash   bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, record_id)
);

CREATE TABLE audit_tree_heads (
    tenant_id     text NOT NULL REFERENCES tenants (tenant_id),
    head_id       bigint GENERATED ALWAYS AS IDENTITY,
    tree_size     bigint NOT NULL CHECK (tree_size >= 0),
    root_hash     bytea NOT NULL CHECK (octet_length(root_hash) = 32),
    timestamp_ms  bigint NOT NULL CHECK (timestamp_ms >= 0),
    public_key    bytea NOT NULL CHECK (octet_length(public_key) = 32),
    signature     bytea NOT NULL CHECK (octet_length(signature) = 64),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, head_id)
);
CREATE INDEX audit_tree_heads_size ON audit_tree_heads (tenant_id, tree_size);

-- Erasure deletes rows here: the commitment in the leaf can then never be
-- opened again, while the leaf and every proof over it stay valid.
CREATE TABLE audit_commitment_salts (
    tenant_id  text NOT NULL,
    seq        bigint NOT NULL,
    name       text NOT NULL,
    salt       bytea NOT NULL CHECK (octet_length(salt) = 32),
    value      text NOT NULL,
    PRIMARY KEY (tenant_id, seq, name),
    FOREIGN KEY (tenant_id, seq) REFERENCES audit_leaves (tenant_id, seq)
);
-- Erasure finds a person's rows by value (a pseudonym); values may be long, so hash.
CREATE INDEX audit_commitment_salts_value ON audit_commitment_salts USING hash (value);

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_leaves_append_only
    BEFORE UPDATE OR DELETE ON audit_leaves
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_leaves_no_truncate
    BEFORE TRUNCATE ON audit_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_heads_append_only
    BEFORE UPDATE OR DELETE ON audit_tree_heads
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_heads_no_truncate
    BEFORE TRUNCATE ON audit_tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_leaves, audit_tree_heads FROM PUBLIC;
