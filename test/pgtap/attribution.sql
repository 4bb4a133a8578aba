-- role: postgres
-- markov_attribution and shapley_attribution: the same credit serial and with
-- parallel workers forced, and partial states that survive text (Citus).
BEGIN;
SELECT plan(7);
SELECT setseed(0.21);
CREATE TABLE jt AS
SELECT i, ARRAY(SELECT (ARRAY['baidu', 'douyin', 'wechat', 'direct', 'referral', 'xhs'])[1 + floor(random() * 6)::int]
                  FROM generate_series(1, 1 + (i % 5)) WHERE i > 0) AS path,
       (random() < 0.3)::int::float8 AS conv, round((random() * 1000)::numeric, 2)::float8 AS value
  FROM generate_series(1, 60000) i;
ANALYZE jt;
CREATE TABLE jt_serial AS
SELECT (SELECT leadmgmt.markov_attribution(path, conv, 1 - conv, value) FROM jt)::text AS m1,
       (SELECT leadmgmt.markov_attribution(path, conv, 1 - conv, value, 3) FROM jt)::text AS m3,
       (SELECT leadmgmt.shapley_attribution(path, conv, value, true) FROM jt)::text AS sh;
CREATE TABLE jt_touch AS
SELECT i % 3000 AS j, (ARRAY['baidu', 'douyin', 'wechat', 'direct'])[1 + (i * 7) % 4] AS ch,
       '2026-01-01'::timestamptz + (i % 997) * interval '1 hour' AS ts FROM generate_series(1, 30000) i;
ANALYZE jt_touch;
CREATE TABLE jt_touch_serial AS
SELECT j, leadmgmt.touch_credit('time_decay', ch, ts, '2026-03-01', '{"lookback_days": 60}')::text AS cr FROM jt_touch GROUP BY j;
SELECT tap.force_parallel();
SELECT ok(tap.plan_of('SELECT leadmgmt.markov_attribution(path, conv, 1 - conv, value) FROM jt') ~ 'Partial Aggregate',
          'markov_attribution runs as a partial aggregate');
-- credits are exact sums of whole counts, so they match to rounding of the solve
CREATE FUNCTION pg_temp.close(a leadmgmt.markov_credit[], b text) RETURNS boolean LANGUAGE sql AS $$
  SELECT bool_and(x.channel = y.channel AND abs(x.removal_effect - y.removal_effect) < 1e-12
                  AND abs(x.conversions - y.conversions) < 1e-9 AND abs(x.value - y.value) < 1e-6)
    FROM unnest(a) WITH ORDINALITY x(channel, removal_effect, conversions, value, i)
    JOIN unnest(b::leadmgmt.markov_credit[]) WITH ORDINALITY y(channel, removal_effect, conversions, value, i) USING (i)
$$;
SELECT ok(pg_temp.close((SELECT leadmgmt.markov_attribution(path, conv, 1 - conv, value) FROM jt), (SELECT m1 FROM jt_serial)),
          'markov_attribution (k = 1): the same credit serial and parallel');
SELECT ok(pg_temp.close((SELECT leadmgmt.markov_attribution(path, conv, 1 - conv, value, 3) FROM jt), (SELECT m3 FROM jt_serial)),
          'markov_attribution (k = 3): the same credit serial and parallel');
SELECT ok((SELECT bool_and(abs(x.conversions - y.conversions) < 1e-9 AND abs(x.value - y.value) < 1e-6)
             FROM unnest((SELECT leadmgmt.shapley_attribution(path, conv, value, true) FROM jt)) x
             JOIN unnest((SELECT sh::leadmgmt.shapley_credit[] FROM jt_serial)) y USING (channel)),
          'shapley_attribution (exact): the same credit serial and parallel');
SELECT ok((SELECT abs(sum(c.conversions) - (SELECT sum(conv) FROM jt)) < 1e-6
             FROM unnest((SELECT leadmgmt.markov_attribution(path, conv, 1 - conv, value) FROM jt)) c),
          'Markov credit adds up to the conversions');
SELECT is((SELECT count(*) FROM (
             SELECT j, leadmgmt.touch_credit('time_decay', ch, ts, '2026-03-01', '{"lookback_days": 60}')::text AS cr FROM jt_touch GROUP BY j) p
             JOIN jt_touch_serial s USING (j) WHERE p.cr = s.cr), 3000::bigint,
          'touch_credit: the same credit for all 3000 journeys serial and parallel');
SELECT tap.serial();
CREATE SCHEMA jp;
CREATE AGGREGATE jp.partial(text[], float8, float8, float8) (SFUNC = leadmgmt.markov_transfn, STYPE = leadmgmt.journey_state,
  COMBINEFUNC = leadmgmt.journey_combine);
CREATE AGGREGATE jp.merge(leadmgmt.journey_state) (SFUNC = leadmgmt.journey_combine, STYPE = leadmgmt.journey_state,
  FINALFUNC = leadmgmt.markov_final);
SELECT ok(pg_temp.close((SELECT jp.merge(st::text::leadmgmt.journey_state)
                           FROM (SELECT i % 8, jp.partial(path, conv, 1 - conv, value) AS st FROM jt GROUP BY 1) s),
                        (SELECT m1 FROM jt_serial)),
          'partial Markov states of 8 shards, through text, merge to the serial credit');
SELECT * FROM finish();
ROLLBACK;
