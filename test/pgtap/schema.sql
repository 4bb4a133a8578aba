-- role: postgres
-- Structural rules every table, view and function of the extension follows.
BEGIN;
SELECT plan(30);

-- the tenant tables: all but schema_version, install()'s record of the
-- schema steps it applied, which belongs to no org (checked at the end)
CREATE TEMP VIEW t_tables AS
  SELECT c.oid, c.relname FROM pg_class c
   WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_version';
CREATE TEMP VIEW t_org_attnum AS
  SELECT t.oid, a.attnum FROM t_tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'org_id';

SELECT is((SELECT count(*) FROM t_tables), 49::bigint, 'schema 0.17 has 49 tables (0.4 adds the engine state rep_load, rep_load_change, assign_rotation; 0.7 the pick journal assign_pick; 0.12 lead_contact, the phones; 0.14 lost_reason and lead_status_change, the lifecycle; 0.16 rep_leave; 0.17 handler_value, routing_log and landing_variant)');
SELECT is(array(SELECT relname FROM t_tables t WHERE NOT EXISTS
          (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'org_id' AND a.attnotnull AND a.atttypid = 'int8'::regtype)
          ORDER BY 1), '{}'::name[], 'every table has org_id bigint NOT NULL');
SELECT is(array(SELECT conrelid::regclass::text FROM pg_constraint k JOIN t_org_attnum o ON o.oid = k.conrelid
                 WHERE k.contype IN ('p', 'u') AND NOT (o.attnum = ANY (k.conkey)) ORDER BY 1),
          '{}'::text[], 'org_id is part of every primary key and unique constraint');
SELECT is(array(SELECT i.indexrelid::regclass::text FROM pg_index i JOIN t_org_attnum o ON o.oid = i.indrelid
                 WHERE i.indisunique AND NOT (o.attnum = ANY (i.indkey::int2[])) ORDER BY 1),
          '{}'::text[], 'org_id is part of every unique index');
SELECT is(array(SELECT relname FROM t_tables t WHERE NOT EXISTS
          (SELECT 1 FROM pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p') ORDER BY 1),
          '{}'::name[], 'every table has a primary key');
SELECT is(array(SELECT k.conname::text FROM pg_constraint k
                  JOIN t_org_attnum s ON s.oid = k.conrelid
                  JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attname = 'org_id'
                 WHERE k.contype = 'f'
                   AND NOT (k.conkey[1] = s.attnum AND k.confkey[1] = ra.attnum)
                 ORDER BY 1),
          '{}'::text[], 'every foreign key starts with org_id on both sides, so no row can point into another org');
SELECT is(array(SELECT a.attrelid::regclass || '.' || a.attname FROM pg_attribute a JOIN t_tables t ON t.oid = a.attrelid
                 WHERE a.attidentity <> '' AND a.atttypid <> 'int8'::regtype ORDER BY 1),
          '{}'::text[], 'identity keys are bigint');
SELECT is(array(SELECT a.attrelid::regclass || '.' || a.attname FROM pg_attribute a JOIN t_tables t ON t.oid = a.attrelid
                 WHERE a.attnum > 0 AND NOT a.attisdropped AND a.atttypid IN ('timestamp'::regtype, 'money'::regtype)
                 ORDER BY 1),
          '{}'::text[], 'times are timestamptz and no column uses the money type');
SELECT is(array(SELECT a.attrelid::regclass || '.' || a.attname FROM pg_attribute a JOIN t_tables t ON t.oid = a.attrelid
                 WHERE a.attnum > 0 AND NOT a.attisdropped
                   AND a.attname IN ('spend', 'amount', 'price', 'list_price', 'discount', 'cost', 'reward', 'discount_amount')
                   AND format_type(a.atttypid, a.atttypmod) <> 'numeric(14,2)' ORDER BY 1),
          '{}'::text[], 'money columns are numeric(14,2)');
SELECT is(array(SELECT t.relname FROM t_tables t JOIN pg_class c ON c.oid = t.oid WHERE NOT c.relrowsecurity ORDER BY 1),
          '{}'::name[], 'row-level security is enabled on every table');
SELECT is(array(SELECT relname FROM t_tables t WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid) ORDER BY 1),
          '{}'::name[], 'every table has a policy');
SELECT is(array(SELECT c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
                 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
                   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'leadmgmt') ORDER BY 1),
          '{}'::name[], 'no table, sequence or view is a member of the extension: install() made them, pg_dump dumps them (0.11)');
SELECT is((SELECT extconfig FROM pg_extension WHERE extname = 'leadmgmt'), NULL, 'nor is any registered with pg_extension_config_dump');
SELECT is(array(SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'v'
                   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false) ORDER BY 1),
          '{}'::name[], 'every view is security_invoker');
SELECT is(array(SELECT c.relname || coalesce('.' || a.attname, '') FROM pg_class c
                  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind IN ('r', 'v')
                   AND (obj_description(c.oid, 'pg_class') IS NULL
                        OR (a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))
                 ORDER BY 1),
          '{}'::text[], 'every table, view and column has a comment');
SELECT is(array(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1),
          '{}'::text[], 'every function has a comment');
-- (but the SQL helpers ingest_lead's hot path inlines, since 0.16: a SET
-- clause stops the planner from inlining a function, and one it does not
-- inline is planned again in every transaction; they call only qualified
-- functions, are not SECURITY DEFINER, and inlined into a caller they take
-- its pinned search_path)
SELECT is(array(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND p.prokind <> 'a'
                   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
                   AND NOT coalesce(p.proconfig::text[] && '{"search_path=pg_catalog, pg_temp"}', false) ORDER BY 1),
          ARRAY['leadmgmt.lead_form_vals(text,text,text,integer,integer,integer,timestamp without time zone,text,bigint)',
                'leadmgmt.model_predict(text,double precision[],jsonb,jsonb,jsonb)'],
          'every SQL and PL/pgSQL function pins search_path = pg_catalog, pg_temp, but the two inlined helpers');
SELECT is(array(SELECT p.proname::text FROM pg_proc p
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND p.proname IN ('lead_form_vals', 'model_predict')
                   AND (p.prosecdef OR p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'sql') OR p.provolatile = 'v')
                 ORDER BY 1), '{}'::text[], 'the inlined helpers are plain SQL, not SECURITY DEFINER, not volatile');
CREATE TEMP TABLE inlined (line text);
CREATE TEMP TABLE inline_args AS SELECT '{"n": 1}'::jsonb AS x, 3 AS g, '2026-05-01 10:00'::timestamp AS t;
DO $$
DECLARE r record;
BEGIN
  -- (with arguments as ingest_lead passes them: variables, here columns)
  FOR r IN EXECUTE $q$EXPLAIN (VERBOSE, COSTS OFF)
    SELECT leadmgmt.model_predict('logreg', '{0, 1}', '{"features": [{"field": "n"}]}', NULL, v.x),
           leadmgmt.lead_form_vals('douyin', NULL, NULL, NULL, 8, v.g, v.t, NULL, 0)
      FROM inline_args v$q$ LOOP
    INSERT INTO inlined VALUES (r."QUERY PLAN");
  END LOOP;
END $$;
SELECT ok((SELECT bool_and(line !~ '(model_predict|lead_form_vals)\(') AND bool_or(line ~ 'model_score\(') AND bool_or(line ~ 'jsonb_build_object\(') FROM inlined),
          'the planner inlines both (the plan calls model_score and jsonb_build_object, neither helper)');
SELECT is(array(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND p.prosecdef
                   AND (has_function_privilege('public', p.oid, 'EXECUTE') OR p.proconfig IS NULL) ORDER BY 1),
          '{}'::text[], 'SECURITY DEFINER functions pin search_path and are not executable by PUBLIC');
SELECT is(array(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND p.prosecdef ORDER BY 1),
          '{"leadmgmt.claim_lead(bigint,bigint,bigint,timestamp with time zone)",leadmgmt.lead_event_lifecycle(),"leadmgmt.lead_history(bigint,bigint)","leadmgmt.lead_phone(bigint,bigint)",leadmgmt.lead_status_check(),leadmgmt.lead_status_track(),"leadmgmt.log_follow_up(bigint,bigint,bigint,text,text,numeric,timestamp with time zone,integer,text)","leadmgmt.mark_lost(bigint,bigint,text,text)",leadmgmt.refund_lifecycle(),"leadmgmt.release_lead(bigint,bigint,bigint,timestamp with time zone)",leadmgmt.rep_load_track(),leadmgmt.sales_order_lifecycle(),"leadmgmt.update_lead(bigint,bigint,jsonb)"}'::text[],
          'the SECURITY DEFINER functions are lead_phone and lead_history, the rep-facing functions that check the caller (engine, update_lead, mark_lost), the open-lead trigger and the lifecycle''s triggers');
SELECT is(array(SELECT p.proname::text FROM pg_proc p
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace
                   AND p.proname IN ('grant_access', 'revoke_access', 'apply_privileges', 'register_table')
                   AND has_function_privilege('public', p.oid, 'EXECUTE') ORDER BY 1),
          '{}'::text[], 'only the owner may grant or revoke access or register tables');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'leadmgmt'), false, 'the extension is not relocatable');

SELECT is(array(SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace
                   AND (p.proparallel <> 's' OR a.aggcombinefn = 0 OR a.aggtranstype = 'internal'::regtype) ORDER BY 1),
          '{}'::text[], 'every aggregate is parallel safe, has a combine function and a concrete (non-internal) state type, so Citus can combine it');
SELECT is(array(SELECT t.typname::text FROM pg_type t
                 WHERE t.typnamespace = 'leadmgmt'::regnamespace AND t.typtype = 'b'
                   AND (t.typinput = 0 OR t.typoutput = 0 OR t.typreceive = 0 OR t.typsend = 0) ORDER BY 1),
          '{}'::text[], 'every base type has text and binary input and output');
-- schema_version, the one table of no tenant: install()'s record, which
-- everybody may read (the code checks it for every caller) and nobody but its
-- owner writes; install() itself is not PUBLIC's
SELECT is((SELECT array_agg(conname ORDER BY conname) FROM pg_constraint WHERE conrelid = 'leadmgmt.schema_version'::regclass),
          '{schema_version_how_check,schema_version_pkey}'::name[], 'schema_version: named key and check');
SELECT ok(has_table_privilege('public', 'leadmgmt.schema_version', 'SELECT')
          AND NOT has_table_privilege('public', 'leadmgmt.schema_version', 'INSERT, UPDATE, DELETE, TRUNCATE')
          AND NOT has_function_privilege('public', 'leadmgmt.install()', 'EXECUTE'),
          'schema_version is readable by all and writable by its owner only; install() is not PUBLIC''s');
-- tenancy that holds on every node (0.11): the policies are plain
-- expressions over C functions that read no table (docs/dba/citus.md)
SELECT is(array(SELECT c.relname || '.' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
                 WHERE c.relnamespace = 'leadmgmt'::regnamespace
                   AND (coalesce(pg_get_expr(p.polqual, p.polrelid), '') ~* 'select'
                        OR coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~* 'select')
                 ORDER BY 1),
          '{}'::text[], 'no policy has a subquery');
SELECT is(array(SELECT c.relname || '.' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
                 WHERE c.relnamespace = 'leadmgmt'::regnamespace AND NOT p.polpermissive ORDER BY 1),
          '{}'::text[], 'no policy is restrictive (Citus 13 makes them permissive on the shards)');
SELECT is(array(SELECT p.proname::text || '=' || l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                 WHERE p.pronamespace = 'leadmgmt'::regnamespace
                   AND p.proname IN ('acting_org_ids', 'my_rep_ids', 'sales_scope_org_ids', 'is_acting_role') ORDER BY 1),
          '{acting_org_ids=c,is_acting_role=c,my_rep_ids=c,sales_scope_org_ids=c}'::text[],
          'the functions the policies call are C, reading the role catalogs only');
SELECT * FROM finish();
ROLLBACK;
