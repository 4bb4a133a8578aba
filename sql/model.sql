-- logreg_train, logreg_predict, auc, log_loss and calibration: small exact
-- cases, NULLs, empty input, bad input with its SQLSTATE, separation and
-- collinearity, and identifiers that try to inject SQL
\pset null '<null>'
SET search_path = public, leadmgmt;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

-- a small data set: y depends on x1, x2 is noise; fitted values checked against statsmodels Logit
CREATE TABLE lr (id int, y boolean, x float8[]);
INSERT INTO lr SELECT i, (i * 7919) % 10 < 3 + (i % 5), ARRAY[(i % 5)::float8, ((i * 31) % 7)::float8] FROM generate_series(1, 200) i;
SELECT array(SELECT round(c::numeric, 6) FROM unnest((m).coef) c) AS coef,
       array(SELECT round(c::numeric, 6) FROM unnest((m).std_err) c) AS std_err,
       round((m).log_likelihood::numeric, 6) AS ll, (m).iterations <= 10 AS at_most_10_passes, (m).converged,
       (m).rows_used, (m).rows_skipped, round((m).condition_number::numeric, 2) AS condition_number
  FROM (SELECT logreg_train('lr', 'y', 'x') AS m) s;
SELECT array(SELECT round(c::numeric, 6) FROM unnest((m).p_values) c) AS p_values,
       array(SELECT round(c::numeric, 6) FROM unnest((m).odds_ratios) c) AS odds_ratios
  FROM (SELECT logreg_train('lr', 'y', 'x') AS m) s;
-- prediction: the mean predicted probability equals the observed rate (a property of the MLE with an intercept)
SELECT round(avg(logreg_predict(m, x))::numeric, 10) = round(avg(y::int)::numeric, 10) AS mean_matches
  FROM lr, (SELECT logreg_train('lr', 'y', 'x') AS m) s;
SELECT round(logreg_predict(m, '{0,0}')::numeric, 6) AS p_at_zero, logreg_predict(m, '{1,NULL}') AS null_feature
  FROM (SELECT logreg_train('lr', 'y', 'x') AS m) s;
-- ridge: l2 shrinks the slopes, not the intercept
SELECT abs((m1).coef[2]) < abs((m0).coef[2]) AS shrunk, (m1).l2
  FROM (SELECT logreg_train('lr', 'y', 'x') AS m0, logreg_train('lr', 'y', 'x', l2 => 50) AS m1) s;
-- rows with a NULL label, NULL features or a NULL feature are skipped and counted
INSERT INTO lr VALUES (1001, NULL, '{1,1}'), (1002, true, NULL), (1003, false, '{NULL,1}');
SELECT (m).rows_used, (m).rows_skipped FROM (SELECT logreg_train('lr', 'y', 'x') AS m) s;

-- bad input
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', NULL)$$);
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x', max_iter => 0)$$);
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x', tolerance => 0)$$);
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x', tolerance => 'NaN')$$);
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x', l2 => 'NaN')$$);
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x', l2 => -1)$$);
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'nope')$$);
INSERT INTO lr VALUES (1004, true, '{1,2,3}');
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x')$$);
DELETE FROM lr WHERE id = 1004;
INSERT INTO lr VALUES (1005, true, '{NaN,1}');
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x')$$);
DELETE FROM lr WHERE id = 1005;
INSERT INTO lr VALUES (1006, true, '{{1,2}}');
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y', 'x')$$);
DELETE FROM lr WHERE id = 1006;
-- empty input
CREATE TABLE lr_empty (y boolean, x float8[]);
SELECT pg_temp.err($$SELECT logreg_train('lr_empty', 'y', 'x')$$);
INSERT INTO lr_empty VALUES (NULL, '{1}');
SELECT pg_temp.err($$SELECT logreg_train('lr_empty', 'y', 'x')$$);
-- perfect separation, and its ridge fallback
CREATE TABLE lr_sep AS SELECT i, i > 50 AS y, ARRAY[i::float8] AS x FROM generate_series(1, 100) i;
SELECT pg_temp.err($$SELECT logreg_train('lr_sep', 'y', 'x')$$);
SELECT (m).converged, (m).coef[2] > 0 AS positive_slope FROM (SELECT logreg_train('lr_sep', 'y', 'x', l2 => 1) AS m) s;
-- a duplicated feature makes the Hessian singular; l2 resolves it
CREATE TABLE lr_col AS SELECT id, y, ARRAY[x[1], x[1]] AS x FROM lr WHERE x IS NOT NULL AND NOT (x[1] IS NULL);
SELECT pg_temp.err($$SELECT logreg_train('lr_col', 'y', 'x')$$);
SELECT (m).converged, round((m).coef[2]::numeric, 6) = round((m).coef[3]::numeric, 6) AS equal_shares
  FROM (SELECT logreg_train('lr_col', 'y', 'x', l2 => 0.1) AS m) s;
-- identifiers are quoted, never run as SQL
CREATE TABLE "lr odd""name" (" y" boolean, "x; DROP TABLE lr; --" float8[]);
INSERT INTO "lr odd""name" SELECT y, x FROM lr;
SELECT (m).rows_used FROM (SELECT logreg_train('"lr odd""name"', ' y', 'x; DROP TABLE lr; --') AS m) s;
SELECT pg_temp.err($$SELECT logreg_train('lr', 'y"; DROP TABLE lr; --', 'x')$$);
SELECT count(*) AS lr_still_there FROM lr;
SELECT pg_temp.err($$SELECT logreg_train('lr; DROP TABLE lr', 'y', 'x')$$);
-- the step aggregate and its helpers
SELECT pg_temp.err($$SELECT logreg_step(true, '{1}', NULL)$$);
SELECT pg_temp.err($$SELECT logreg_transfn(NULL, true, '{1}', '{0,0}')$$);
SELECT pg_temp.err($$SELECT logreg_newton(array_fill(0::float8, ARRAY[10]), '{0,0}', 0)$$);

-- auc: perfect, reversed, all ties, one class only, empty, NULLs skipped
SELECT auc(s, y) FROM (VALUES (0.9, true), (0.8, true), (0.3, false), (0.1, false)) v(s, y);
SELECT auc(-s, y) FROM (VALUES (0.9, true), (0.8, true), (0.3, false), (0.1, false)) v(s, y);
SELECT auc(0.5, y) FROM (VALUES (true), (false), (false)) v(y);
SELECT auc(s, y) FROM (VALUES (0.9, true), (0.3, false), (0.5, false), (0.5, true)) v(s, y);
SELECT auc(s, true) FROM (VALUES (0.9), (0.3)) v(s);
SELECT auc(s, y) FROM (VALUES (0.9, true)) v(s, y) WHERE false;
SELECT auc(s, y) FROM (VALUES (0.9, true), (NULL, false), (0.1, NULL), (0.2, false)) v(s, y);
SELECT pg_temp.err($$SELECT auc('NaN', true)$$);
-- log_loss: exact values, clipping, errors
SELECT round(log_loss(p, y)::numeric, 6) FROM (VALUES (0.9, true), (0.2, false)) v(p, y);
SELECT round(log_loss(0, true)::numeric, 6) AS clipped, round(log_loss(1, true)::numeric, 6) AS sure_and_right;
SELECT log_loss(p, y) AS empty FROM (VALUES (0.5, true)) v(p, y) WHERE false;
SELECT pg_temp.err($$SELECT log_loss(1.5, true)$$);
SELECT pg_temp.err($$SELECT log_loss('NaN', true)$$);
-- calibration: 4 bins over 8 rows; an empty bin is left out; p = 1 falls in the last bin
SELECT c.bin, c.lower_bound, c.upper_bound, c.rows, round(c.mean_predicted::numeric, 6) AS mean_predicted,
       round(c.observed_rate::numeric, 6) AS observed_rate FROM (SELECT calibration(p, y, 4) AS cal FROM (VALUES (0.1, false), (0.2, true), (0.15, false), (0.6, true),
                   (0.7, false), (0.65, true), (0.95, true), (1.0, true)) v(p, y)) s, unnest(s.cal) c;
SELECT calibration(p, y, 10) FROM (VALUES (0.5, true)) v(p, y) WHERE false;
SELECT pg_temp.err($$SELECT calibration(0.5, true, 0)$$);
SELECT pg_temp.err($$SELECT calibration(0.5, true, NULL)$$);
SELECT pg_temp.err($$SELECT calibration(p, true, b) FROM (VALUES (0.5, 2), (0.5, 3)) v(p, b)$$);

-- the conversion-model pipeline: arguments and an org without a model
SELECT create_org('No Model School') AS nm \gset
SELECT pg_temp.err(format('SELECT leadmgmt.score_leads(%s)', :nm));
SELECT pg_temp.err(format('SELECT leadmgmt.explain_score(%s, 1)', :nm));
SELECT pg_temp.err('SELECT leadmgmt.score_leads(-5)');
SELECT pg_temp.err(format($$SELECT leadmgmt.train_conversion_model(%s, NULL, '2025-01-01', '2026-01-01')$$, :nm));
SELECT pg_temp.err(format($$SELECT leadmgmt.train_conversion_model(%s, 'm', '2025-01-01', '2026-01-01', kind => 'forest')$$, :nm));
SELECT pg_temp.err(format($$SELECT leadmgmt.train_conversion_model(%s, 'm', '2025-01-01', '2026-01-01')$$, :nm));
SELECT pg_temp.err(format('SELECT leadmgmt.activate_model(%s, 1)', :nm));
SELECT pg_temp.err(format('UPDATE leadmgmt.org SET conversion_days = 0 WHERE org_id = %s', :nm));
-- model_features: one-hot levels, unseen values are the reference, numerics pass through
SELECT model_features('{"features": [{"name": "channel=douyin", "field": "channel", "level": "douyin"},
                                     {"name": "channel=baidu", "field": "channel", "level": "baidu"},
                                     {"name": "log_touches", "field": "log_touches"}]}',
                      '{"channel": "douyin", "log_touches": 0.5}') AS douyin,
       model_features('{"features": [{"name": "channel=douyin", "field": "channel", "level": "douyin"},
                                     {"name": "log_touches", "field": "log_touches"}]}',
                      '{"channel": "unseen"}') AS unseen;
-- nb_predict by hand (add-one smoothing, one extra slot for unseen values): won 2 x 2/5 x 1/5 = 0.16,
-- lost 4 x 1/7 x 3/7 = 0.2449, so 0.16 / (0.16 + 0.2449) = 0.395161
SELECT round(nb_predict('{"classes": [2, 4], "levels": {"a": 2, "b": 2},
                          "fields": {"a": {"x": [1, 0], "y": [1, 4]}, "b": {"u": [0, 2], "v": [2, 2]}}}',
                        '{"a": "x", "b": "u"}')::numeric, 6) AS nb;
