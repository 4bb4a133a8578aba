-- km_fit and its readers, logrank, logrank_each and retention: the worked
-- cases of domain.md, edge cases, NULLs, empty input, errors and the text form
\pset null '<null>'
SET search_path = leadmgmt, public;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

-- domain.md: durations 1,2,2,3,4,4,5,6,6,8 with events 1,1,0,1,1,1,0,1,0,0
CREATE TEMP TABLE km (d float8, e boolean);
INSERT INTO km SELECT d, e = 1 FROM unnest('{1,2,2,3,4,4,5,6,6,8}'::float8[], '{1,1,0,1,1,1,0,1,0,0}'::int[]) u(d, e);
CREATE TEMP TABLE fit AS SELECT km_fit(d, e) AS s FROM km;

-- S(t) and the log-log 95% interval at every event time (.473009-.985281 at t = 1, ...)
SELECT c.t, c.n_at_risk, c.n_events, c.n_censored, round(c.survival::numeric, 6) AS s,
       round(c.std_err::numeric, 6) AS se, round(c.ci_low::numeric, 6) AS lo, round(c.ci_high::numeric, 6) AS hi
  FROM fit, km_curve(fit.s) c;
-- Greenwood sum at t = 4 is .132143: (se / S)^2
SELECT round(((c.std_err / c.survival) ^ 2)::numeric, 6) AS greenwood FROM fit, km_curve(fit.s) c WHERE c.t = 4;
-- the log and plain intervals, and a 90% interval
SELECT c.t, round(c.ci_low::numeric, 6) AS lo, round(c.ci_high::numeric, 6) AS hi FROM fit, km_curve(fit.s, 'log') c WHERE c.n_events > 0;
SELECT c.t, round(c.ci_low::numeric, 6) AS lo, round(c.ci_high::numeric, 6) AS hi FROM fit, km_curve(fit.s, 'plain', 0.1) c WHERE c.n_events > 0;
-- median 4 (interval from 1, upper end never reached), restricted mean to 8 is 4.909524
SELECT m.* FROM fit, km_median(fit.s) m;
SELECT round(km_rmst(s, 8)::numeric, 6) AS rmst_8, km_rmst(s, 0) AS rmst_0, round(km_rmst(s, 0.5)::numeric, 6) AS rmst_half,
       round(km_rmst(s, 100)::numeric, 6) AS rmst_100 FROM fit;
SELECT t, round(km_at(s, t)::numeric, 6) AS s FROM fit, unnest('{-1,0,0.999,1,3.5,4,7.9,8,1e9}'::float8[]) t;
-- the median rule: the first t with S(t) <= 0.5; durations 1,2,3,4 all events give 2
SELECT (km_median(km_fit(d, true))).median FROM generate_series(1, 4) d;

-- domain.md log-rank: chi2 6.91598157449, df 1, p 0.008542873404
CREATE TEMP TABLE lr (g text, d float8, e boolean);
INSERT INTO lr SELECT 'A', d, i <= 6 FROM unnest('{8,12,26,14,21,27,8,32,20,40}'::float8[]) WITH ORDINALITY u(d, i);
INSERT INTO lr SELECT 'B', d, i <= 3 FROM unnest('{33,28,41,48,48,25,37,48,25,43}'::float8[]) WITH ORDINALITY u(d, i);
SELECT round((r).chi2::numeric, 11) AS chi2, (r).df, round((r).p_value::numeric, 12) AS p_value, (r).groups,
       (r).observed, round((r).expected[1]::numeric, 6) AS expected_a
  FROM (SELECT logrank(g, d, e) AS r FROM lr) x;
SELECT e.grp, e.subjects, e.events, round(e.expected::numeric, 6) AS expected, round(e.chi2::numeric, 11) AS chi2,
       round(e.p_value::numeric, 12) AS p_value
  FROM logrank_each((SELECT survival_by(g, d, e) FROM lr)) e;
-- three groups: a third group equal to A; the pooled curve of survival_by is the curve of all rows
INSERT INTO lr SELECT 'C', d, e FROM lr WHERE g = 'A';
SELECT round((r).chi2::numeric, 6) AS chi2, (r).df, round((r).p_value::numeric, 8) AS p_value
  FROM (SELECT logrank(g, d, e) AS r FROM lr) x;
SELECT (SELECT array_agg(round(c.survival::numeric, 9)) FROM km_curve((SELECT survival_by(g, d, e) FROM lr)) c)
     = (SELECT array_agg(round(c.survival::numeric, 9)) FROM km_curve((SELECT km_fit(d, e) FROM lr)) c) AS pooled_equal;

-- edge cases: everyone dies (S reaches 0, no interval), all censored, ties at 0, one row
SELECT c.t, c.survival, c.std_err, c.ci_low, c.ci_high FROM km_curve((SELECT km_fit(d, true) FROM generate_series(1, 3) d)) c;
SELECT c.t, c.survival, c.std_err, c.ci_low, c.ci_high FROM km_curve((SELECT km_fit(d, false) FROM generate_series(1, 3) d)) c;
SELECT m.* FROM km_median((SELECT km_fit(d, false) FROM generate_series(1, 3) d)) m;
SELECT c.t, c.n_at_risk, c.n_events, c.survival FROM km_curve((SELECT km_fit(0, i <= 2) FROM generate_series(1, 4) i)) c;
SELECT c.* FROM km_curve((SELECT km_fit(5, true))) c;
-- weights: a weight of 2 is two rows, a weight of 0 no row
SELECT (SELECT array_agg(c.survival) FROM km_curve((SELECT km_fit(d, e, 2) FROM km)) c)
     = (SELECT array_agg(c.survival) FROM km_curve((SELECT km_fit(d, e) FROM (SELECT * FROM km UNION ALL SELECT * FROM km) x)) c) AS weight_two;
SELECT (SELECT array_agg(c.survival) FROM km_curve((SELECT km_fit(d, e, CASE WHEN d = 8 THEN 0 ELSE 1 END) FROM km)) c) AS weight_zero;
-- late entry: entry 2 means at risk on (2, d]; entries below every time change nothing
SELECT c.t, c.n_at_risk, round(c.survival::numeric, 6) AS s
  FROM km_curve((SELECT km_fit(CASE WHEN d >= 4 THEN 2 ELSE -1 END, d, e) FROM km)) c;
SELECT (SELECT array_agg(c.survival) FROM km_curve((SELECT km_fit(-5, d, e) FROM km)) c)
     = (SELECT array_agg(c.survival) FROM km_curve((SELECT s FROM fit)) c) AS early_entry_same;

-- huge durations; a NULL weight skips the row
SELECT c.t, c.survival FROM km_curve((SELECT km_fit(d, true) FROM (VALUES (1e308::float8), (1.7e308)) v(d))) c;
SELECT count(*) FROM km_curve((SELECT km_fit(d, e, CASE WHEN d = 8 THEN NULL ELSE 1 END) FROM km)) c;
-- as a window aggregate: the final function leaves the state alone
SELECT d, e, (km_median(km_fit(d, e) OVER (ORDER BY d, e ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))).median
  FROM km ORDER BY d, e;

-- NULL rows are skipped; empty input gives NULL
SELECT count(*) FROM km_curve((SELECT km_fit(d, e) FROM (SELECT * FROM km UNION ALL VALUES (NULL, true), (3, NULL)) x)) c;
SELECT km_fit(d, e) IS NULL AS empty_is_null FROM km WHERE false;
SELECT km_fit(d, e) IS NULL AS all_null_is_null FROM (VALUES (NULL::float8, true)) v(d, e);
SELECT logrank(g, d, e) IS NULL AS empty_logrank FROM lr WHERE false;
SELECT (logrank(g, d, e)).df FROM (SELECT * FROM lr UNION ALL VALUES (NULL, 1, true), ('A', NULL, true), ('A', 1, NULL)) x;
SELECT km_at(NULL, 1) IS NULL AS strict_reader, km_rmst(s, NULL) IS NULL AS strict_tau FROM fit;
-- no events at all: no test (df 0, p NULL); a group without events has expected > 0
SELECT (r).chi2, (r).df, (r).p_value FROM (SELECT logrank(g, d, false) AS r FROM lr) x;
SELECT e.grp, e.events, e.chi2, e.p_value FROM logrank_each((SELECT survival_by(g, d, false) FROM lr)) e;

-- bad input, each with its SQLSTATE
SELECT pg_temp.err('SELECT km_fit(-1, true)');
SELECT pg_temp.err($$SELECT km_fit('NaN', true)$$);
SELECT pg_temp.err($$SELECT km_fit('Infinity', true)$$);
SELECT pg_temp.err('SELECT km_fit(1, true, -1)');
SELECT pg_temp.err($$SELECT km_fit(1, true, 'NaN')$$);
SELECT pg_temp.err('SELECT km_fit(3, 3, true)');
SELECT pg_temp.err($$SELECT km_fit('-Infinity', 3, true)$$);
SELECT pg_temp.err($$SELECT logrank('A', 2, true)$$);
SELECT pg_temp.err($$SELECT logrank(g::text, 1, true) FROM generate_series(1, 201) g$$);
SELECT pg_temp.err($$SELECT km_curve(s, 'loglog') FROM fit$$);
SELECT pg_temp.err($$SELECT km_median(s, 'log', 0) FROM fit$$);
SELECT pg_temp.err($$SELECT km_median(s, 'log', 1) FROM fit$$);
SELECT pg_temp.err($$SELECT km_at(s, 'NaN') FROM fit$$);
SELECT pg_temp.err('SELECT km_rmst(s, -1) FROM fit');
SELECT pg_temp.err($$SELECT km_transfn(NULL, 1, true)$$);

-- text form: exact round trip, and bad input
SELECT survival_in(survival_out(s))::text = s::text AS round_trip FROM fit;
SELECT (SELECT array_agg(c.survival) FROM km_curve(survival_in(survival_out(s))) c)
     = (SELECT array_agg(c.survival) FROM km_curve(s) c) AS same_curve FROM fit;
SELECT (SELECT s FROM fit)::text::survival IS NOT NULL AS cast_back;
SELECT pg_temp.err($$SELECT 'v2:01'::survival$$);
SELECT pg_temp.err($$SELECT 'v1:0'::survival$$);
SELECT pg_temp.err($$SELECT 'v1:02'::survival$$);
SELECT pg_temp.err($$SELECT 'v1:0100000001000000000000000000000000000000'::survival$$);
SELECT pg_temp.err($$SELECT ('v1:02' || repeat('00', 21))::survival$$);
SELECT pg_temp.err($$SELECT ('v1:0100000000010000000000000001000000000000000100000000000000000000000000' || repeat('00', 36))::survival$$);
-- a record whose group does not exist, an event at a negative time
SELECT 'v1:010100000001000000000000000100000000000000013ff0000000000000000000003ff00000000000003ff00000000000000000000500'::survival;
SELECT 'v1:010000000001000000000000000100000000000000013ff000000000000000000000bff00000000000003ff00000000000000000000000'::survival;

-- retention: [c1, c1 and c2, c1 and c3], as ClickHouse
CREATE TEMP TABLE ret (u int, d int);
INSERT INTO ret VALUES (1, 1), (1, 2), (1, 3), (2, 1), (2, 3), (3, 2), (3, 3), (4, 1);
SELECT u, retention(d = 1, d = 2, d = 3) FROM ret GROUP BY u ORDER BY u;
SELECT sum(a[1]) AS c1, sum(a[2]) AS c1_c2, sum(a[3]) AS c1_c3
  FROM (SELECT retention(d = 1, d = 2, d = 3) a FROM ret GROUP BY u) g;
SELECT retention(NULL, true) FROM ret WHERE u = 1;
SELECT retention(d = 1) FROM ret WHERE false;
SELECT retention(VARIADIC NULL::boolean[]) FROM ret;
SELECT pg_temp.err('SELECT retention(VARIADIC ARRAY[]::boolean[])');
SELECT pg_temp.err('SELECT retention(VARIADIC ARRAY[[true]])');
SELECT pg_temp.err('SELECT retention(VARIADIC array_fill(true, ARRAY[33]))');
SELECT pg_temp.err($$SELECT retention(VARIADIC CASE WHEN u = 1 THEN ARRAY[true] ELSE ARRAY[true, false] END) FROM ret$$);
