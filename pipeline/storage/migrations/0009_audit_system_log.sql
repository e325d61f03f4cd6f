-- The audit log of the deployment as a whole (docs/audit.md, "Who appends what").
--
-- Model deployments (and, once they exist, fairness evaluations) are about the
-- one text model every tenant's scores use, so they go to one log, kept under
-- the tenant id '_system' (audit_leaves.tenant_id references tenants). The row
-- is disabled from the start: it has no API keys, accepts no events and is
-- never among the known tenants; only operators read its log
-- (wardstream audit export --tenant _system).

INSERT INTO tenants (tenant_id, name, disabled_at)
VALUES ('_system', 'wardstream deployment audit log (not a platform)', now())
ON CONFLICT (tenant_id) DO NOTHING;
