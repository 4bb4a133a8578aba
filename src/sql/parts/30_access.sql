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

CREATE FUNCTION @extschema@.current_org() RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v text := current_setting('leadmgmt.org_id', true);
BEGIN
  IF v IS NULL OR v = '' THEN
    RETURN NULL;
  END IF;
  IF v !~ '^[0-9]{1,18}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid leadmgmt.org_id setting "%s"', v),
      HINT = 'Set it to the numeric id of an org, for example SET LOCAL leadmgmt.org_id = ''1''.';
  END IF;
  RETURN v::bigint;
END
$$;
COMMENT ON FUNCTION @extschema@.current_org() IS 'org chosen for this transaction or session with SET leadmgmt.org_id, or NULL when none is set';

-- PL/pgSQL, not SQL, so that the query is planned once per session: the
-- row-level security policies call these in every statement
CREATE FUNCTION @extschema@.acting_org_ids(kinds text[]) RETURNS bigint[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chosen bigint := @extschema@.current_org();
BEGIN
  RETURN (SELECT coalesce(array_agg(DISTINCT g.org_id ORDER BY g.org_id), '{}')
            FROM @extschema@.access_grant g
            JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
           WHERE g.access = ANY (kinds)
             AND pg_catalog.pg_has_role(r.oid, 'USAGE')
             AND CASE WHEN chosen IS NULL THEN g.access <> 'app' ELSE g.org_id = chosen END);
END
$$;
COMMENT ON FUNCTION @extschema@.acting_org_ids(text[]) IS 'orgs the current role may act for with one of the given kinds of access; app access counts only for the org set in leadmgmt.org_id, and a set leadmgmt.org_id narrows every kind to that org';

CREATE FUNCTION @extschema@.my_rep_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chosen bigint := @extschema@.current_org();
BEGIN
  RETURN (SELECT coalesce(array_agg(DISTINCT g.rep_id ORDER BY g.rep_id), '{}')
            FROM @extschema@.access_grant g
            JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
           WHERE g.access = 'sales'
             AND pg_catalog.pg_has_role(r.oid, 'USAGE')
             AND (chosen IS NULL OR g.org_id = chosen));
END
$$;
COMMENT ON FUNCTION @extschema@.my_rep_ids() IS 'sales reps the current role acts as';

CREATE FUNCTION @extschema@.sales_scope_org_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(o ORDER BY o), '{}')
            FROM unnest(@extschema@.acting_org_ids('{sales}')) AS o
           WHERE o <> ALL (@extschema@.acting_org_ids('{reporting,app,admin}')));
END
$$;
COMMENT ON FUNCTION @extschema@.sales_scope_org_ids() IS 'orgs where the current role has only sales access, and so sees only its own leads and the public pool';

ALTER TABLE @extschema@.access_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_grants ON @extschema@.access_grant FOR SELECT
  USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                  WHERE r.rolname = role_name AND pg_catalog.pg_has_role(r.oid, 'USAGE')));

-- Every table: pg_dump registration and row-level security by org.
DO $$
DECLARE
  t text;
BEGIN
  PERFORM pg_catalog.pg_extension_config_dump('@extschema@.access_grant', '');
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

CREATE FUNCTION @extschema@.lead_phone(org_id bigint, lead_id bigint) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT l.phone
    FROM @extschema@.lead l
    JOIN @extschema@.access_grant g
      ON g.org_id = l.org_id AND g.access = 'sales' AND g.rep_id = l.owner_rep_id
    JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
   WHERE l.org_id = lead_phone.org_id AND l.lead_id = lead_phone.lead_id
     AND pg_catalog.pg_has_role(session_user, r.oid, 'USAGE')
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_phone(bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_phone(bigint, bigint) IS 'full phone number of a lead for the sales rep who owns it (checked against the session user); NULL for anyone else';
