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
