-- role: lm_bi
-- Aggregate support functions (transition, combine, final) are not PUBLIC's
-- to call since 0.9: a reporting role may not call them with a state of its
-- own making, nor build an aggregate on them; the aggregates still run for
-- it, serially and in parallel, and the state types' text I/O stays open.
BEGIN;
SELECT * FROM no_plan();

SELECT is(count(*), 0::bigint, 'no transition, combine or final function of the schema is executable by this role')
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid,
       LATERAL unnest(ARRAY[a.aggtransfn, a.aggcombinefn, a.aggfinalfn]::oid[]) s(fn)
 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND s.fn <> 0
   AND (SELECT pronamespace FROM pg_proc WHERE oid = s.fn) = 'leadmgmt'::regnamespace
   AND has_function_privilege(s.fn, 'EXECUTE');
SELECT cmp_ok(count(DISTINCT s.fn), '>=', 50::bigint, 'and there are many of them')
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid,
       LATERAL unnest(ARRAY[a.aggtransfn, a.aggcombinefn, a.aggfinalfn]::oid[]) s(fn)
 WHERE p.pronamespace = 'leadmgmt'::regnamespace AND s.fn <> 0;

SELECT throws_ok($$SELECT leadmgmt.shapley_final('v1:010100000000000000000000000000')$$,
                 '42501', NULL, 'may not call shapley_final on a state of its own');
SELECT throws_ok($$SELECT leadmgmt.markov_final('v1:010001000000000000000000000000')$$, '42501', NULL, 'may not call markov_final');
SELECT throws_ok($$SELECT leadmgmt.calibration_final(ARRAY[1000::float8])$$, '42501', NULL, 'may not call calibration_final');
SELECT throws_ok($$SELECT leadmgmt.retention_final(1)$$, '42501', NULL, 'may not call retention_final');
SELECT throws_ok($$SELECT leadmgmt.funnel_combine(NULL, NULL)$$, '42501', NULL, 'may not call funnel_combine');
SELECT throws_ok($$CREATE AGGREGATE pg_temp.evil(bool, float8[], float8[]) (sfunc = leadmgmt.logreg_transfn, stype = float8[], initcond = '{1000}')$$,
                 '42501', NULL, 'may not build an aggregate on logreg_transfn');
SELECT throws_ok($$CREATE AGGREGATE pg_temp.evil2(float8, bool, int) (sfunc = leadmgmt.calibration_transfn, stype = float8[], initcond = '{1000}')$$,
                 '42501', NULL, 'may not build an aggregate on calibration_transfn');

-- the aggregates run for the role
SELECT is(leadmgmt.window_funnel('1 hour', t, s1, s2), 2, 'window_funnel runs')
  FROM (VALUES ('2026-01-01 10:00+08'::timestamptz, true, false), ('2026-01-01 10:30+08', false, true)) v(t, s1, s2);
SELECT is(cardinality(leadmgmt.markov_attribution(p, 1, 0, 10)), 2, 'markov_attribution runs')
  FROM (VALUES (ARRAY['douyin', 'baidu'])) v(p);
SELECT is(leadmgmt.retention(a, b), '{1,1}'::int[], 'retention runs') FROM (VALUES (true, true)) v(a, b);
SELECT is(leadmgmt.km_fit(t, e)::text::leadmgmt.survival::text, leadmgmt.km_fit(t, e)::text,
          'a survival state goes to text and back') FROM (VALUES (1.0::float8, true), (2, false)) v(t, e);

-- and in a parallel plan, where workers run the combine function
CREATE TEMP TABLE serial AS
  SELECT e.lead_id, leadmgmt.window_funnel('30 days', e.occurred_at, e.event_type = 'form_submitted', e.event_type = 'paid') AS level
    FROM leadmgmt.lead_event e GROUP BY e.lead_id;
SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is((SELECT count(*) FROM serial s JOIN (
             SELECT e.lead_id, leadmgmt.window_funnel('30 days', e.occurred_at, e.event_type = 'form_submitted', e.event_type = 'paid') AS level
               FROM leadmgmt.lead_event e GROUP BY e.lead_id) p USING (lead_id) WHERE s.level = p.level),
          (SELECT count(*) FROM serial), 'window_funnel in a parallel plan gives the serial levels');

SELECT * FROM finish();
ROLLBACK;
