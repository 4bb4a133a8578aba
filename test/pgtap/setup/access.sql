-- The test roles' grants, the values the pgTAP tests expect, and their
-- helpers.  Runs as the superuser in the database the tests read, after
-- fixture.sql: on one node, and on a Citus cluster that holds the same rows.
SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting');
SELECT leadmgmt.grant_access('lm_app', 1, 'app');
SELECT leadmgmt.grant_access('lm_app', 2, 'app');
SELECT leadmgmt.grant_access('lm_admin1', 1, 'admin');
-- every call with constant arguments, as an application makes it (on a Citus
-- cluster a subquery argument would push the call into a shard's query)
SELECT min(rep_id) AS sales1, max(rep_id) AS sales2 FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales' \gset
SELECT leadmgmt.grant_access('lm_sales1', 1, 'sales', :sales1);
SELECT leadmgmt.grant_access('lm_sales2', 1, 'sales', :sales2);


CREATE TABLE public.tap_fixture (name text PRIMARY KEY, v bigint NOT NULL);
GRANT SELECT ON public.tap_fixture TO PUBLIC;
WITH r AS (SELECT min(rep_id) AS r1, max(rep_id) AS r2 FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales')
INSERT INTO public.tap_fixture
SELECT 'rep1', r1 FROM r UNION ALL
SELECT 'rep2', r2 FROM r UNION ALL
SELECT 'own_lead', (SELECT min(lead_id) FROM leadmgmt.lead, r WHERE org_id = 1 AND owner_rep_id = r1) FROM r UNION ALL
SELECT 'other_private_lead', (SELECT min(lead_id) FROM leadmgmt.lead, r WHERE org_id = 1 AND owner_rep_id = r2) FROM r UNION ALL
SELECT 'public_lead', (SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 1 AND pool = 'public') UNION ALL
SELECT 'cooled_lead', (SELECT max(lead_id) FROM leadmgmt.assignment WHERE org_id = 1 AND release_reason = 'release') UNION ALL
SELECT 'org2_lead', (SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 2) UNION ALL
SELECT 'org1_leads', (SELECT count(*) FROM leadmgmt.lead WHERE org_id = 1) UNION ALL
SELECT 'org2_leads', (SELECT count(*) FROM leadmgmt.lead WHERE org_id = 2) UNION ALL
SELECT 'sales1_leads', (SELECT count(*) FROM leadmgmt.lead, r WHERE org_id = 1 AND (pool = 'public' OR owner_rep_id = r1)) FROM r UNION ALL
SELECT 'sales1_events', (SELECT count(*) FROM leadmgmt.lead_event e JOIN leadmgmt.lead l USING (org_id, lead_id), r
                          WHERE e.org_id = 1 AND (l.pool = 'public' OR l.owner_rep_id = r1)) FROM r;

-- Helpers the role tests share.  Invoker rights: they count what the calling
-- role can see, so row-level security applies to them.
CREATE SCHEMA tap;
GRANT USAGE ON SCHEMA tap TO PUBLIC;
CREATE FUNCTION tap.n(rel name, cond text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM leadmgmt.%I WHERE %s', rel, cond) INTO c;
  RETURN c;
END $$;
COMMENT ON FUNCTION tap.n(name, text) IS 'rows of a leadmgmt table or view matching a condition, as the caller sees them';
CREATE FUNCTION tap.affected(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c bigint;
BEGIN
  EXECUTE q;
  GET DIAGNOSTICS c = ROW_COUNT;
  RETURN c;
END $$;
COMMENT ON FUNCTION tap.affected(text) IS 'runs a statement and returns how many rows it changed';
CREATE FUNCTION tap.v(k text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT v FROM public.tap_fixture WHERE name = k $$;
COMMENT ON FUNCTION tap.v(text) IS 'a value recorded by the fixture';
CREATE FUNCTION tap.force_parallel() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- for the rest of the transaction: parallel plans whenever possible, and workers even for tiny scans
  PERFORM set_config('parallel_setup_cost', '0', true), set_config('parallel_tuple_cost', '0', true),
          set_config('min_parallel_table_scan_size', '0', true), set_config('max_parallel_workers_per_gather', '4', true),
          set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                          THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', true);
END $$;
COMMENT ON FUNCTION tap.force_parallel() IS 'forces parallel plans for the rest of the transaction';
CREATE FUNCTION tap.serial() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('max_parallel_workers_per_gather', '0', true),
          set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                          THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'off', true);
END $$;
COMMENT ON FUNCTION tap.serial() IS 'serial plans again for the rest of the transaction';
CREATE FUNCTION tap.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; p text := '';
BEGIN FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP p := p || r || E'\n'; END LOOP; RETURN p; END $$;
COMMENT ON FUNCTION tap.plan_of(text) IS 'the EXPLAIN output of a query, as one text';

-- every table and view of a tenant (schema_version is global: which steps of
-- the schema install() applied; public, like the catalogs)
CREATE VIEW tap.rels AS
  SELECT relname FROM pg_class WHERE relnamespace = 'leadmgmt'::regnamespace AND relkind IN ('r', 'v')
     AND relname NOT IN ('access_grant', 'schema_version');
GRANT SELECT ON tap.rels TO PUBLIC;


-- Roles that hold different kinds of access in different orgs (#22, item 9):
-- in each org a role's rights are exactly those of the kind it holds there.
-- lm_bi2 reads org 2 only; the mixed roles hold admin or sales (as rep 1) in
-- org 1 and reporting in org 2.  tap_visible records, per table and view and
-- org, how many rows the single-kind roles' policies give, which
-- access_mixed_*.sql expect the mixed roles to see.
SELECT leadmgmt.grant_access('lm_bi2', 2, 'reporting');
SELECT leadmgmt.grant_access('lm_mix_admin', 1, 'admin');
SELECT leadmgmt.grant_access('lm_mix_admin', 2, 'reporting');
SELECT leadmgmt.grant_access('lm_mix_sales', 1, 'sales', :sales1);
SELECT leadmgmt.grant_access('lm_mix_sales', 2, 'reporting');
CREATE FUNCTION tap.some_column(rel name) RETURNS name LANGUAGE sql STABLE AS $$
  SELECT a.attname FROM pg_attribute a
   WHERE a.attrelid = format('leadmgmt.%I', rel)::regclass AND a.attnum > 0 AND NOT a.attisdropped
     AND a.attidentity = '' AND a.attgenerated = '' AND a.attname <> 'org_id'
   ORDER BY a.attnum LIMIT 1 $$;
COMMENT ON FUNCTION tap.some_column(name) IS 'a column of a table that an UPDATE may set to itself (not org_id, not generated)';
CREATE TABLE public.tap_visible (role name, rel name, org bigint, n bigint NOT NULL, PRIMARY KEY (role, rel, org));
GRANT SELECT ON public.tap_visible TO PUBLIC;
-- What each kind's row-level security gives, with every privilege: a
-- privilege holds in every org, so a mixed role has the union of its kinds'
-- privileges, and in each org the policies must give it exactly the rows of
-- the kind it holds there (a view runs with the reader's rights, so through
-- a view the kind may not read, what the kind's rows give).  So each
-- single-kind role gets SELECT on every table and view for the count, and
-- loses it again: three transactions, since Citus refuses a GRANT after a
-- read over several connections in the same one.
CREATE TABLE public.tap_lent (role name, rel name);
INSERT INTO public.tap_lent
SELECT x.role, t.relname
  FROM unnest('{lm_admin1,lm_sales1,lm_bi,lm_bi2}'::name[]) x (role), tap.rels t
 WHERE NOT has_table_privilege(x.role, format('leadmgmt.%I', t.relname), 'SELECT');
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT role, rel FROM public.tap_lent ORDER BY 1, 2 LOOP
    EXECUTE format('GRANT SELECT ON leadmgmt.%I TO %I', r.rel, r.role);
  END LOOP;
END $$;
DO $$
DECLARE
  r record;
  c bigint;
BEGIN
  FOR r IN SELECT x.role, x.org, t.relname FROM (VALUES ('lm_admin1', 1), ('lm_sales1', 1), ('lm_bi', 1), ('lm_bi2', 2)) x (role, org),
                  tap.rels t ORDER BY 1, 2, 3 LOOP
    EXECUTE format('SET ROLE %I', r.role);
    EXECUTE format('SELECT count(*) FROM leadmgmt.%I WHERE org_id = %s', r.relname, r.org) INTO c;
    RESET ROLE;
    INSERT INTO public.tap_visible VALUES (r.role, r.relname, r.org, c);
  END LOOP;
END $$;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT role, rel FROM public.tap_lent ORDER BY 1, 2 LOOP
    EXECUTE format('REVOKE SELECT ON leadmgmt.%I FROM %I', r.rel, r.role);
  END LOOP;
END $$;
DROP TABLE public.tap_lent;
