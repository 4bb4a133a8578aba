
-- ---------------------------------------------------------------------------
-- Tenancy and access (docs/dba/security.md)
--
-- access_grant maps database roles to orgs with one of four kinds of access:
--   reporting  read the org's rows through tables and views, phones masked
--   app        a backend serving many tenants: acts only for the org set in
--              leadmgmt.org_id for the transaction, sees nothing without it
--   sales      a rep's role: own private leads plus the org's public pool
--   admin      manage the org's rows
-- Row-level security on every table enforces the org; table and column
-- privileges, applied by grant_access(), enforce what each kind may touch.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.access_grant (
  org_id      bigint NOT NULL REFERENCES @extschema@.org (org_id),
  role_name   name NOT NULL,
  access      text NOT NULL CHECK (access IN ('reporting', 'app', 'sales', 'admin')),
  rep_id      bigint,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, role_name, access),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  CHECK ((access = 'sales') = (rep_id IS NOT NULL))
);
COMMENT ON TABLE @extschema@.access_grant IS 'which database role may act for which org, and how; maintained by grant_access and revoke_access';
COMMENT ON COLUMN @extschema@.access_grant.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.access_grant.role_name IS 'database role (members of it inherit the access)';
COMMENT ON COLUMN @extschema@.access_grant.access IS 'reporting, app, sales or admin';
COMMENT ON COLUMN @extschema@.access_grant.rep_id IS 'sales rep the role acts as; set exactly for sales access';
COMMENT ON COLUMN @extschema@.access_grant.granted_at IS 'when the access was granted';

-- Row-level security on every table is not DDL here: install() runs
-- apply_policies() (src/sql/parts/access.sql) after the schema, so the policies
-- are always the code's (since 0.11).
