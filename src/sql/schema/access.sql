
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

ALTER TABLE @extschema@.access_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_grants ON @extschema@.access_grant FOR SELECT
  USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                  WHERE r.rolname = role_name AND pg_catalog.pg_has_role(r.oid, 'USAGE')));

-- Every table: row-level security by org.
DO $$
DECLARE
  t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_catalog.pg_class c
     WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r' AND c.relname <> 'access_grant'
     ORDER BY c.relname
  LOOP
    PERFORM @extschema@.register_table(format('@extschema@.%I', t)::regclass,
      -- a sales role also writes the sales side of its own leads
      CASE WHEN t IN ('lead', 'follow_up', 'lead_event', 'lead_tag', 'trial_lesson') THEN '{app,admin,sales}' ELSE '{app,admin}' END::text[],
      t IN ('touchpoint', 'lead_event', 'lead_tag', 'assignment', 'follow_up', 'trial_lesson'));
  END LOOP;
END
$$;

-- A sales role sees its own private leads and the public pool, and writes only its own leads.
CREATE POLICY sales_scope ON @extschema@.lead AS RESTRICTIVE FOR ALL
  USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
         OR pool = 'public'
         OR owner_rep_id = ANY ((SELECT @extschema@.my_rep_ids())::bigint[]));
CREATE POLICY sales_own_update ON @extschema@.lead AS RESTRICTIVE FOR UPDATE
  USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
         OR owner_rep_id = ANY ((SELECT @extschema@.my_rep_ids())::bigint[]))
  WITH CHECK (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
         OR owner_rep_id = ANY ((SELECT @extschema@.my_rep_ids())::bigint[]));
