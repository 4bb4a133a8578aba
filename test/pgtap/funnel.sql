-- role: postgres
-- window_funnel against an independent reference on random journeys, and the
-- same results serial and with forced parallel workers (states combined).
BEGIN;
SELECT plan(14);
SELECT setseed(0.17);

-- 3000 leads with 1..9 events each in a few hours: mostly one step, some two
-- steps at once, some none, some excluded; times on a coarse grid so ties happen
CREATE TABLE fx_events AS
SELECT l AS lead, '2026-01-01'::timestamptz + floor(random() * 24) * interval '10 minutes' AS ts,
       m AS mask, random() < 0.08 AS excluded
  FROM generate_series(1, 3000) l,
       LATERAL generate_series(1, 1 + (l * 7) % 9) e,
       LATERAL (SELECT CASE WHEN r < 0.1 THEN 0 WHEN r < 0.85 THEN 1 << floor(random() * 4)::int
                            ELSE (1 << floor(random() * 4)::int) | (1 << floor(random() * 4)::int) END AS m
                  FROM (SELECT random() + e * 0 AS r) rr) mm;

-- the reference: enumerate every chain.  Rows are ordered by (time, lowest
-- step, mask) as documented; a chain takes rows in that order, row j for step
-- j, each row once, all within the window of its first row.
CREATE FUNCTION pg_temp.reference(win interval, first_entry boolean, strict_increase boolean, exclusions boolean)
RETURNS TABLE (lead int, level int) LANGUAGE sql AS $$
  WITH RECURSIVE s AS (
    SELECT lead, ts, mask, excluded,
           row_number() OVER (PARTITION BY lead ORDER BY ts,
             CASE WHEN exclusions AND excluded THEN 99 WHEN mask = 0 THEN 98
                  ELSE (SELECT min(k) FROM generate_series(0, 3) k WHERE mask & (1 << k) <> 0) END, mask) AS rn
      FROM fx_events
  ), firsts AS (
    SELECT lead, min(rn) AS rn FROM s WHERE mask & 1 <> 0 AND NOT (exclusions AND excluded) GROUP BY lead
  ), chain (lead, start_ts, start_rn, last_rn, last_ts, k) AS (
    SELECT s.lead, s.ts, s.rn, s.rn, s.ts, 1 FROM s
     WHERE s.mask & 1 <> 0 AND NOT (exclusions AND s.excluded)
       AND (NOT first_entry OR s.rn = (SELECT f.rn FROM firsts f WHERE f.lead = s.lead))
    UNION ALL
    SELECT c.lead, c.start_ts, c.start_rn, s.rn, s.ts, c.k + 1 FROM chain c
      JOIN s ON s.lead = c.lead AND s.rn > c.last_rn AND c.k < 4
            AND s.mask & (1 << c.k) <> 0 AND NOT (exclusions AND s.excluded)
            AND s.ts <= c.start_ts + win AND (NOT strict_increase OR s.ts > c.last_ts)
     WHERE NOT (exclusions AND EXISTS (SELECT 1 FROM s x WHERE x.lead = c.lead AND x.excluded
                                        AND x.rn > c.start_rn AND x.rn < s.rn))
  )
  SELECT l.lead, coalesce(max(c.k), 0)::int FROM (SELECT DISTINCT lead FROM fx_events) l
    LEFT JOIN chain c ON c.lead = l.lead GROUP BY l.lead
$$;
CREATE FUNCTION pg_temp.mismatches(mode text, first_entry boolean, strict_increase boolean) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    SELECT lead, leadmgmt.window_funnel('1 hour', mode, ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS level
      FROM fx_events GROUP BY lead) f
  JOIN pg_temp.reference('1 hour', first_entry, strict_increase, false) r USING (lead)
  WHERE f.level <> r.level
$$;

SELECT is(pg_temp.mismatches('', false, false), 0::bigint, 'default mode equals the reference on 3000 random journeys');
SELECT is(pg_temp.mismatches('first_entry', true, false), 0::bigint, 'first_entry equals the reference');
SELECT is(pg_temp.mismatches('strict_increase', false, true), 0::bigint, 'strict_increase equals the reference');
SELECT is((SELECT count(*) FROM (
             SELECT lead, leadmgmt.window_funnel_excluding('1 hour', '', ts, excluded, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS level
               FROM fx_events GROUP BY lead) f
           JOIN pg_temp.reference('1 hour', false, false, true) r USING (lead) WHERE f.level <> r.level),
          0::bigint, 'window_funnel_excluding equals the reference');
SELECT is((SELECT count(*) FROM (
             SELECT lead, leadmgmt.funnel_detail('1 hour', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS d,
                    leadmgmt.window_funnel('1 hour', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS level
               FROM fx_events GROUP BY lead) f
           WHERE (d).level <> level OR cardinality((d).step_times) <> level
              OR (level > 0 AND (d).step_times[level] > (d).step_times[1] + interval '1 hour')
              OR EXISTS (SELECT 1 FROM generate_series(2, level) k WHERE (d).step_times[k] < (d).step_times[k - 1])),
          0::bigint, 'funnel_detail agrees with window_funnel, its step times ascend and fit the window');
SELECT cmp_ok((SELECT count(DISTINCT level) FROM pg_temp.reference('1 hour', false, false, false)), '=', 5::bigint,
              'the journeys reach every level from 0 to 4');

-- the overloads with 2 to 8 separate steps (0.6) give exactly what the
-- VARIADIC array gives, in every mode, for every aggregate and arity
CREATE TABLE fx_events8 AS
SELECT l AS lead, '2026-01-01'::timestamptz + floor(random() * 24) * interval '10 minutes' AS ts,
       CASE WHEN random() < 0.1 THEN 0
            ELSE (1 << floor(random() * 8)::int) | (CASE WHEN random() < 0.2 THEN 1 << floor(random() * 8)::int ELSE 0 END) END AS mask,
       random() < 0.08 AS excluded
  FROM generate_series(1, 1500) l, LATERAL generate_series(1, 1 + (l * 5) % 14) e;
CREATE FUNCTION pg_temp.args_against_array() RETURNS TABLE (what text, mismatches bigint) LANGUAGE plpgsql AS $$
DECLARE
  n int;
  flags text;
  agg text;
BEGIN
  FOR n IN 2..8 LOOP
    SELECT string_agg(format('mask & %s <> 0', 1 << k), ', ') INTO flags FROM generate_series(0, n - 1) k;
    FOREACH agg IN ARRAY ARRAY[
        'leadmgmt.window_funnel(''1 hour'', ts, %s)',
        'leadmgmt.window_funnel(''1 hour'', m, ts, %s)',
        'leadmgmt.window_funnel_excluding(''1 hour'', m, ts, excluded, %s)',
        'leadmgmt.funnel_detail(''1 hour'', ts, %s)::text',
        'leadmgmt.funnel_detail(''1 hour'', m, ts, %s)::text'] LOOP
      what := format('%s steps: %s', n, format(agg, '...'));
      EXECUTE format($q$SELECT count(*) FROM (SELECT m, lead, %s AS a, %s AS v FROM fx_events8,
                          unnest(ARRAY['', 'first_entry', 'strict_increase', 'strict_order', 'strict_deduplication',
                                       'strict_order,strict_deduplication,strict_increase,first_entry']) m
                        GROUP BY m, lead) x WHERE a IS DISTINCT FROM v$q$,
                     format(agg, flags), format(agg, 'VARIADIC ARRAY[' || flags || ']'))
        INTO mismatches;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END
$$;
SELECT is((SELECT string_agg(what || ': ' || mismatches, '; ') FROM pg_temp.args_against_array() WHERE mismatches > 0),
          NULL, 'separate step arguments (2 to 8) give what the VARIADIC array gives: 5 aggregates, 7 arities, 6 modes, 1500 journeys');
SELECT is((SELECT count(*) FROM pg_aggregate g JOIN pg_proc p ON p.oid = g.aggfnoid
            WHERE p.pronamespace = 'leadmgmt'::regnamespace AND p.provariadic = 0
              AND p.proname IN ('window_funnel', 'window_funnel_excluding', 'funnel_detail')),
          35::bigint, 'window_funnel (2 forms), window_funnel_excluding and funnel_detail (2 forms) have overloads for 2 to 8 steps');
CREATE TEMP VIEW fx_resolved AS
SELECT leadmgmt.window_funnel('1 hour', ts, true, NULL) AS two,
       leadmgmt.funnel_detail('1 hour', ts, true, false, true, true, true, true, true, true) AS eight,
       leadmgmt.window_funnel('1 hour', ts, true, false, true, true, true, true, true, true, true) AS nine
  FROM fx_events;
SELECT is((SELECT (length(v) - length(replace(v, 'VARIADIC', ''))) / 8 FROM pg_get_viewdef('fx_resolved'::regclass) v), 1,
          'calls with 2 to 8 separate steps resolve to the overloads, 9 steps to the VARIADIC array');

-- the text form of a state carries every event exactly, excluded rows too
-- (Citus moves partial states as text): a test aggregate returns the states
CREATE SCHEMA fx;
CREATE AGGREGATE fx.state_of(interval, text, timestamptz, boolean, VARIADIC boolean[]) (
  SFUNC = leadmgmt.funnel_transfn, STYPE = leadmgmt.funnel_state);
SELECT is((SELECT count(*) FROM (
             SELECT st, st::text::leadmgmt.funnel_state AS back
               FROM (SELECT fx.state_of('1 hour', 'strict_order', ts, excluded, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS st
                       FROM fx_events GROUP BY lead) x) y
           WHERE back::text <> st::text
              OR leadmgmt.funnel_final_detail(back)::text <> leadmgmt.funnel_final_detail(st)::text),
          0::bigint, 'every state, excluded and non-step rows included, survives its text form unchanged');

-- serial against forced parallel: partial states built in workers and combined
CREATE TABLE fx_serial AS
  SELECT lead, leadmgmt.window_funnel('1 hour', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS level,
         leadmgmt.funnel_detail('1 hour', 'strict_order', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0)::text AS detail,
         leadmgmt.window_funnel('1 hour', 'first_entry', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0) AS first_level,
         leadmgmt.window_funnel_excluding('1 hour', 'strict_increase', ts, excluded, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS excl_level
    FROM fx_events GROUP BY lead;
CREATE TABLE fx_whole_serial AS
  SELECT leadmgmt.funnel_detail('3 hours', 'strict_increase', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0)::text AS detail
    FROM fx_events;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 4;
SET LOCAL enable_hashagg = off;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', true);
SELECT ok((SELECT count(*) FROM (
             SELECT lead, leadmgmt.window_funnel('1 hour', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS level,
                    leadmgmt.funnel_detail('1 hour', 'strict_order', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0)::text AS detail
               FROM fx_events GROUP BY lead) p
           FULL JOIN fx_serial s USING (lead)
           WHERE p.level IS DISTINCT FROM s.level OR p.detail IS DISTINCT FROM s.detail) = 0,
          'the same levels and details serial and with parallel workers');
SELECT ok((SELECT count(*) FROM (
             SELECT lead, leadmgmt.window_funnel('1 hour', 'first_entry', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0) AS first_level,
                    leadmgmt.window_funnel_excluding('1 hour', 'strict_increase', ts, excluded, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0) AS excl_level
               FROM fx_events GROUP BY lead) p
           FULL JOIN fx_serial s USING (lead)
           WHERE p.first_level IS DISTINCT FROM s.first_level OR p.excl_level IS DISTINCT FROM s.excl_level) = 0,
          'the mode and excluding overloads (3 and 4 separate steps) give the same results serial and with parallel workers');
SELECT ok((SELECT count(*) FROM (
             SELECT lead, leadmgmt.window_funnel('1 hour', ts, VARIADIC ARRAY[mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0]) AS level,
                    leadmgmt.funnel_detail('1 hour', 'strict_order', ts, VARIADIC ARRAY[mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0])::text AS detail
               FROM fx_events GROUP BY lead) p
           FULL JOIN fx_serial s USING (lead)
           WHERE p.level IS DISTINCT FROM s.level OR p.detail IS DISTINCT FROM s.detail) = 0,
          'the VARIADIC array forms with parallel workers equal the serial separate-argument forms');
SELECT is((SELECT leadmgmt.funnel_detail('3 hours', 'strict_increase', ts, mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0)::text
             FROM fx_events),
          (SELECT detail FROM fx_whole_serial),
          'one group over the whole table, built in every worker and combined, equals the serial result');

SELECT * FROM finish();
ROLLBACK;
