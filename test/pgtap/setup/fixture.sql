-- Grants and expected values for the pgTAP tests.  Runs as the superuser in
-- database leadmgmt_tap after the demo generator filled org 1 and org 2.
SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting');
SELECT leadmgmt.grant_access('lm_app', 1, 'app');
SELECT leadmgmt.grant_access('lm_app', 2, 'app');
SELECT leadmgmt.grant_access('lm_admin1', 1, 'admin');
-- every call with constant arguments, as an application makes it (on a Citus
-- cluster a subquery argument would push the call into a shard's query)
SELECT min(rep_id) AS sales1, max(rep_id) AS sales2 FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales' \gset
SELECT leadmgmt.grant_access('lm_sales1', 1, 'sales', :sales1);
SELECT leadmgmt.grant_access('lm_sales2', 1, 'sales', :sales2);

-- the assignment engine has run for both orgs, on a Friday morning when every
-- rep is on shift, so that its state tables hold rows of both orgs: 190
-- leads each, folded into the rotation and counters, then 10 more, whose
-- picks are still in the journal.  The demo's public pool holds only lost
-- leads, which the engine leaves alone (0.9), so 200 new ones arrive first.
INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
SELECT ch.org_id, ch.c, ch.c, '2026-06-19 09:00+08'::timestamptz + k * interval '1 second', '2026-06-19 09:00+08'::timestamptz + k * interval '1 second'
  FROM (SELECT org_id, min(channel_id) AS c FROM leadmgmt.channel WHERE org_id IN (1, 2) GROUP BY org_id) ch,
       generate_series(1, 200) k;
SELECT count(*) FROM leadmgmt.assign_pending(1, 190, at => '2026-06-19 10:00+08');
SELECT count(*) FROM leadmgmt.assign_pending(2, 190, at => '2026-06-19 10:00+08');
SELECT leadmgmt.rep_load_sync(o, '2026-06-19 10:00+08') FROM leadmgmt.org o WHERE o.org_id = 1;
SELECT leadmgmt.rep_load_sync(o, '2026-06-19 10:00+08') FROM leadmgmt.org o WHERE o.org_id = 2;
SELECT count(*) FROM leadmgmt.assign_pending(1, 10, at => '2026-06-19 10:00+08');
SELECT count(*) FROM leadmgmt.assign_pending(2, 10, at => '2026-06-19 10:00+08');
-- and a lead imported already owned, a change the engine has not folded yet
INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at, pool, owner_rep_id, owned_since)
SELECT ch.org_id, ch.c, ch.c, '2026-06-19 11:00+08', '2026-06-19 11:00+08', 'private', rp.r, '2026-06-19 11:00+08'
  FROM (SELECT org_id, min(channel_id) AS c FROM leadmgmt.channel WHERE org_id IN (1, 2) GROUP BY org_id) ch
  JOIN (SELECT org_id, max(rep_id) AS r FROM leadmgmt.sales_rep WHERE org_id IN (1, 2) AND role = 'sales' GROUP BY org_id) rp
    ON rp.org_id = ch.org_id;

CREATE TABLE public.tap_fixture (name text PRIMARY KEY, v bigint NOT NULL);
GRANT SELECT ON public.tap_fixture TO PUBLIC;
WITH r AS (SELECT min(rep_id) AS r1, max(rep_id) AS r2 FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales')
INSERT INTO public.tap_fixture
SELECT 'rep1', r1 FROM r UNION ALL
SELECT 'rep2', r2 FROM r UNION ALL
SELECT 'own_lead', (SELECT min(lead_id) FROM leadmgmt.lead, r WHERE org_id = 1 AND owner_rep_id = r1) FROM r UNION ALL
SELECT 'other_private_lead', (SELECT min(lead_id) FROM leadmgmt.lead, r WHERE org_id = 1 AND owner_rep_id = r2) FROM r UNION ALL
SELECT 'public_lead', (SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 1 AND pool = 'public') UNION ALL
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

-- service reports as of a day when the last term is about to end, so that
-- at_risk_students lists students of both orgs
UPDATE leadmgmt.org SET report_as_of = '2026-06-20 00:00+08';

-- conversion models for both orgs (logreg active, naive Bayes baseline), and scored leads
SELECT leadmgmt.train_conversion_model(1, 'conversion', '2025-01-01', '2026-01-01');
SELECT leadmgmt.train_conversion_model(1, 'baseline', '2025-01-01', '2026-01-01', kind => 'naive_bayes');
SELECT leadmgmt.score_leads(1);
SELECT leadmgmt.train_conversion_model(2, 'conversion', '2025-01-01', '2026-01-01');
SELECT leadmgmt.train_conversion_model(2, 'baseline', '2025-01-01', '2026-01-01', kind => 'naive_bayes');
SELECT leadmgmt.score_leads(2);

-- tiers: a customised policy for org 1, some scored leads, and a refresh, so
-- that tier_policy and tier_change hold rows of both orgs
INSERT INTO leadmgmt.tier_policy (org_id, tier, handler_role, cost_per_contact, follow_up_sla, min_score)
VALUES (1, 'A', 'top_sales', 25.00, '2 hours', 0.60), (2, 'A', 'top_sales', 35.00, '1 hour', 0.70);
UPDATE leadmgmt.lead SET score = 0.9 WHERE lead_id % 7 = 0 AND tier <> 'A';
SELECT leadmgmt.refresh_tiers(1);
SELECT leadmgmt.refresh_tiers(2);
