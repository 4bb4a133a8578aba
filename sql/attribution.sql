-- markov_attribution and shapley_attribution: the worked example of
-- domain.md exactly, higher orders, degenerate inputs, errors, text form
\pset null '<null>'
SET search_path = public, leadmgmt;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

-- domain.md: A>B>C (1, 0, 100), A (0, 1, 0), B>C (1, 1, 50), A>A>C (1, 0, 80)
CREATE TEMP TABLE j (path text[], conv float8, nonconv float8, value float8);
INSERT INTO j VALUES ('{A,B,C}', 1, 0, 100), ('{A}', 0, 1, 0), ('{B,C}', 1, 1, 50), ('{A,A,C}', 1, 0, 80);
-- removal effects A 1/2, B 3/4, C 1; conversions A 2/3, B 1, C 4/3; value A 51.11, B 76.67, C 102.22
SELECT c.channel, round(c.removal_effect::numeric, 12) AS removal_effect, round(c.conversions::numeric, 12) AS conversions,
       round(c.value::numeric, 2) AS value
  FROM unnest((SELECT markov_attribution(path, conv, nonconv, value) FROM j)) c;
SELECT abs((SELECT sum(c.conversions) FROM unnest((SELECT markov_attribution(path, conv, nonconv, value) FROM j)) c) - 3) < 1e-12 AS conversions_add_up;
-- orders 1 to 4: every channel keeps a share, conversions always add up to 3
SELECT k, string_agg(c.channel || ' ' || round(c.conversions::numeric, 6), ', ' ORDER BY c.channel) AS credit,
       round(sum(c.conversions)::numeric, 12) AS total
  FROM generate_series(1, 4) k, unnest((SELECT markov_attribution(path, conv, nonconv, value, k) FROM j)) c GROUP BY k ORDER BY k;
-- Shapley: simplified and exact agree (the game is a sum of unanimity games)
SELECT c.channel, round(c.conversions::numeric, 12) AS conversions, round(c.value::numeric, 10) AS value
  FROM unnest((SELECT shapley_attribution(path, conv, value) FROM j)) c;
SELECT bool_and(abs(a.conversions - b.conversions) < 1e-12 AND abs(a.value - b.value) < 1e-9) AS exact_equals_simplified
  FROM unnest((SELECT shapley_attribution(path, conv, value) FROM j)) a
  JOIN unnest((SELECT shapley_attribution(path, conv, value, true) FROM j)) b USING (channel);

-- degenerate inputs: no conversions, one channel, all converting, a cycle, empty input, NULL rows
SELECT (SELECT markov_attribution(path, 0, 1, 0) FROM j) AS no_conversions;
SELECT markov_attribution(ARRAY['A'], 2, 1, 10) AS one_channel;
SELECT c.channel, c.removal_effect, round(c.conversions::numeric, 12) AS conversions
  FROM unnest((SELECT markov_attribution(path, 1, 0, 1) FROM j)) c;
SELECT c.channel, round(c.removal_effect::numeric, 12) AS removal_effect, round(c.conversions::numeric, 12) AS conversions
  FROM unnest((SELECT markov_attribution(p, c, n, 0) FROM (VALUES ('{A,B,A,B,C}'::text[], 1, 0), ('{B,A}', 0, 1)) v(p, c, n))) c;
SELECT markov_attribution(path, conv, nonconv, value) IS NULL AS empty_is_null FROM j WHERE false;
SELECT shapley_attribution(path, conv, value) IS NULL AS empty_is_null FROM j WHERE false;
SELECT cardinality(markov_attribution(p, 1, 0, 1)) AS channels
  FROM (VALUES (NULL::text[]), ('{}'), ('{NULL,A}'), ('{B}')) v(p);
SELECT cardinality(markov_attribution(path, NULL, NULL, NULL)) FROM j;

-- errors
SELECT pg_temp.err($$SELECT markov_attribution('{A}', 1, 0, 0, 5)$$);
SELECT pg_temp.err($$SELECT markov_attribution('{A}', 1, 0, 0, NULL)$$);
SELECT pg_temp.err($$SELECT markov_attribution('{A}', -1, 0, 0)$$);
SELECT pg_temp.err($$SELECT markov_attribution('{A}', 'NaN', 0, 0)$$);
SELECT pg_temp.err($$SELECT markov_attribution(ARRAY['A' || chr(31) || 'B'], 1, 0, 0)$$);
SELECT pg_temp.err($$SELECT markov_attribution('{""}', 1, 0, 0)$$);
SELECT pg_temp.err($$SELECT markov_attribution('{{A,B}}', 1, 0, 0)$$);
SELECT pg_temp.err($$SELECT markov_attribution(path, 1, 0, 0, k) FROM (VALUES ('{A}'::text[], 1), ('{B}', 2)) v(path, k)$$);
SELECT pg_temp.err($$SELECT shapley_attribution(ARRAY['c' || g], 1, 0, true) FROM generate_series(1, 21) g$$);
SELECT cardinality(shapley_attribution(ARRAY['c' || g], 1, 0)) AS simplified_takes_more FROM generate_series(1, 21) g;
SELECT pg_temp.err($$SELECT shapley_attribution('{A}', 1, 0, NULL)$$);
SELECT pg_temp.err($$SELECT markov_transfn(NULL, '{A}', 1, 0, 0)$$);

-- text form
CREATE SCHEMA jx;
CREATE AGGREGATE jx.state(text[], float8, float8, float8) (SFUNC = markov_transfn, STYPE = journey_state);
SELECT s::text::journey_state::text = s::text AS round_trip,
       markov_final(s::text::journey_state)::text = (SELECT markov_attribution(path, conv, nonconv, value) FROM j)::text AS same_credit
  FROM (SELECT jx.state(path, conv, nonconv, value) AS s FROM j) x;
SELECT pg_temp.err($$SELECT 'v1:02'::journey_state$$);
SELECT pg_temp.err($$SELECT 'v1:01000100000000000000000000000001'::journey_state$$);
SELECT pg_temp.err($$SELECT 'v1:010005000000000000000000000000'::journey_state$$);

-- touch_credit: the heuristic models of domain.md over the same four journeys (touch days 1, 2, 3; conversion day 10)
CREATE TEMP TABLE t (j int, ch text, ts timestamptz, conv timestamptz);
INSERT INTO t VALUES (1, 'A', '2026-01-01', '2026-01-10'), (1, 'B', '2026-01-02', '2026-01-10'), (1, 'C', '2026-01-03', '2026-01-10'),
  (2, 'A', '2026-01-01', NULL),
  (3, 'B', '2026-01-01', '2026-01-10'), (3, 'C', '2026-01-02', '2026-01-10'),
  (4, 'A', '2026-01-01', '2026-01-10'), (4, 'A', '2026-01-02', '2026-01-10'), (4, 'C', '2026-01-03', '2026-01-10');
-- first touch A 2, B 1, C 0; last touch C 3; linear A 1, B 5/6, C 7/6; position-based A 1, B 0.7, C 1.3
SELECT m AS model, string_agg(c.channel || ' ' || round(c.credit, 6), ', ' ORDER BY c.channel) AS credit
  FROM unnest(ARRAY['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based']) m,
       LATERAL (SELECT c.channel, sum(c.credit)::numeric AS credit
                  FROM (SELECT j, touch_credit(m, ch, ts, conv) AS cr FROM t GROUP BY j) x, unnest(x.cr) c GROUP BY 1) c
 GROUP BY m ORDER BY m;
-- time decay, half-life 7 days: touches 14, 7 and 0 days before conversion get 1/7, 2/7, 4/7
SELECT c.channel, round(c.credit::numeric, 12) AS credit
  FROM unnest((SELECT touch_credit('time_decay', ch, ts, '2026-01-15')
                 FROM (VALUES ('A', '2026-01-01'::timestamptz), ('B', '2026-01-08'), ('C', '2026-01-15')) v(ch, ts))) c;
-- options: one touch gets 100%, two 50/50; custom first/last; direct only when nothing else; merge repeats;
-- lookback; exclusions; touches after the conversion do not count
SELECT touch_credit('position_based', 'A', '2026-01-01', '2026-01-02') AS one_touch;
SELECT touch_credit('position_based', ch, ts, '2026-01-05') AS two_touches FROM (VALUES ('A', '2026-01-01'::timestamptz), ('B', '2026-01-02')) v(ch, ts);
SELECT touch_credit('position_based', ch, ts, '2026-01-05', '{"first": 0.3, "last": 0.5}') AS custom
  FROM (VALUES ('A', '2026-01-01'::timestamptz), ('B', '2026-01-02'), ('C', '2026-01-03')) v(ch, ts);
SELECT touch_credit('last_non_direct', ch, ts, '2026-01-05') AS direct_last
  FROM (VALUES ('baidu', '2026-01-01'::timestamptz), ('direct', '2026-01-02')) v(ch, ts);
SELECT touch_credit('last_non_direct', ch, ts, '2026-01-05') AS only_direct FROM (VALUES ('direct', '2026-01-02'::timestamptz)) v(ch, ts);
SELECT touch_credit('last_non_direct', ch, ts, '2026-01-05', '{"direct": ["direct", "seo"]}') AS two_direct_channels
  FROM (VALUES ('baidu', '2026-01-01'::timestamptz), ('seo', '2026-01-02'), ('direct', '2026-01-03')) v(ch, ts);
SELECT touch_credit('linear', ch, ts, '2026-01-09') AS repeats_counted, touch_credit('linear', ch, ts, '2026-01-09', '{"merge_repeats": true}') AS merged
  FROM (VALUES ('A', '2026-01-01'::timestamptz), ('A', '2026-01-02'), ('B', '2026-01-03')) v(ch, ts);
SELECT touch_credit('linear', ch, ts, '2026-03-01') AS lookback_30, touch_credit('linear', ch, ts, '2026-03-01', '{"lookback_days": 90}') AS lookback_90
  FROM (VALUES ('A', '2026-01-01'::timestamptz), ('B', '2026-02-20'), ('C', '2026-03-02')) v(ch, ts);
SELECT touch_credit('linear', ch, ts, '2026-01-09', '{"exclude": ["A"]}') AS excluded, touch_credit('linear', ch, ts, '2026-01-09', '{"exclude": ["A", "B"]}') AS all_excluded
  FROM (VALUES ('A', '2026-01-01'::timestamptz), ('B', '2026-01-03')) v(ch, ts);
-- no conversion, empty input and NULL touches give NULL
SELECT touch_credit('linear', ch, ts, NULL) AS no_conversion, (SELECT touch_credit('linear', ch, ts, conv) FROM t WHERE false) AS empty
  FROM (VALUES ('A', '2026-01-01'::timestamptz)) v(ch, ts);
SELECT touch_credit('linear', ch, ts, '2026-01-09') FROM (VALUES (NULL, '2026-01-01'::timestamptz), ('B', NULL)) v(ch, ts);
-- every model's credits of a journey add up to 1 (1e-12), on 2000 random journeys
SELECT m AS model, bool_and(abs(s - 1) < 1e-12) AS sums_to_one, count(*) AS journeys
  FROM unnest(ARRAY['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay']) m,
       LATERAL (SELECT j, (SELECT sum(c.credit) FROM unnest(touch_credit(m, ch, ts, '2026-02-01', '{"merge_repeats": true}')) c) AS s
                  FROM (SELECT g % 2000 AS j, (ARRAY['A', 'B', 'C', 'direct'])[1 + (g * 7919) % 4] AS ch,
                               '2026-01-01'::timestamptz + ((g * 104729) % 2800) * interval '15 minutes' AS ts
                          FROM generate_series(1, 9000) g) r GROUP BY j) x
 GROUP BY m ORDER BY m;
-- errors
SELECT pg_temp.err($$SELECT touch_credit('u_shaped', 'A', now(), now())$$);
SELECT pg_temp.err($$SELECT touch_credit(NULL, 'A', now(), now())$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', 'A', now(), now(), '{"lookback": 7}')$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', 'A', now(), now(), '{"lookback_days": 0}')$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', 'A', now(), now(), '{"first": 0.7, "last": 0.5}')$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', 'A', now(), now(), '{"exclude": "A"}')$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', 'A', now(), now(), '[1]')$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', 'A', 'infinity', now())$$);
SELECT pg_temp.err($$SELECT touch_credit('linear', ch, '2026-01-01', c) FROM (VALUES ('A', '2026-01-02'::timestamptz), ('B', '2026-01-03')) v(ch, c)$$);
SELECT pg_temp.err($$SELECT touch_credit_transfn(NULL, 'linear', 'A', now(), now())$$);
SELECT pg_temp.err($$SELECT 'v1:05'::touch_state$$);
CREATE AGGREGATE jx.touches(text, text, timestamptz, timestamptz) (SFUNC = touch_credit_transfn, STYPE = touch_state);
SELECT touch_credit_final(s::text::touch_state)::text = (SELECT touch_credit('position_based', ch, ts, conv) FROM t WHERE j = 1)::text AS round_trip
  FROM (SELECT jx.touches('position_based', ch, ts, conv) AS s FROM t WHERE j = 1) x;
