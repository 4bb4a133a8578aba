-- role: lm_app
-- The conversion model pipeline as the application runs it for org 1:
-- versions, the active model, scoring, explanations, lift, and errors.
BEGIN;
SELECT plan(19);
SET LOCAL leadmgmt.org_id = '1';

SELECT is((SELECT count(*) FROM leadmgmt.conversion_model WHERE active), 1::bigint, 'exactly one active model');
SELECT lives_ok($$SELECT leadmgmt.train_conversion_model(1, 'conversion', '2025-01-01', '2026-01-01', l2 => 2)$$,
                'a second training under the same name');
SELECT is((SELECT array_agg(version ORDER BY version) FROM leadmgmt.conversion_model WHERE name = 'conversion'), '{1,2}'::int[],
          'it becomes version 2 and version 1 is kept');
SELECT is((SELECT version FROM leadmgmt.conversion_model WHERE active), 2, 'the new logreg version is the active one');
SELECT ok((SELECT bool_and(auc_test > 0.6 AND auc_test <= 1 AND log_loss_test > 0 AND rows_test > 0 AND rows_train > rows_test)
             FROM leadmgmt.model_registry), 'every model has held-out AUC above 0.6, a log loss and a time split');
SELECT ok((SELECT jsonb_array_length(calibration_test) BETWEEN 2 AND 10 FROM leadmgmt.conversion_model WHERE active),
          'the calibration table of the held-out leads is stored');

SELECT is(leadmgmt.score_leads(1), (SELECT count(*)::int FROM leadmgmt.lead WHERE status NOT IN ('won', 'lost')),
          'score_leads scores every open lead');
SELECT ok((SELECT bool_and(score > 0 AND score < 1 AND scored_at IS NOT NULL
                           AND score_model_id = (SELECT model_id FROM leadmgmt.conversion_model m WHERE m.active AND m.org_id = l.org_id))
             FROM leadmgmt.lead l WHERE status NOT IN ('won', 'lost')), 'scores lie in (0, 1) with their time and model');
-- a sample of leads read first, then explained (on Citus a table-reading
-- function may not run inside a query of a distributed table)
CREATE TEMP TABLE sample AS SELECT lead_id, status, score FROM leadmgmt.lead WHERE lead_id % 50 = 0;
SELECT is((SELECT count(*) FROM (
             SELECT l.lead_id FROM sample l
              WHERE l.status NOT IN ('won', 'lost')
                AND abs((SELECT sum(contribution) FROM leadmgmt.explain_score(1, l.lead_id)) - ln(l.score / (1 - l.score))) > 1e-9) x),
          0::bigint, 'explain_score contributions sum to the logit of the score');
SELECT is((SELECT count(*) FROM (
             SELECT l.lead_id FROM sample l, (SELECT * FROM leadmgmt.conversion_model WHERE kind = 'naive_bayes' OFFSET 0) m
              WHERE abs((SELECT sum(contribution) FROM leadmgmt.explain_score(1, l.lead_id, m.model_id))
                        - (SELECT ln(p / (1 - p)) FROM (SELECT leadmgmt.model_predict(m.kind, m.coef, m.encoding, m.nb_tables, v.vals) AS p
                             FROM leadmgmt.lead_feature_values(1) v WHERE v.lead_id = l.lead_id) q)) > 1e-9) x),
          0::bigint, 'so do the naive Bayes explanations');
SELECT ok((SELECT count(*) > 3 FROM leadmgmt.explain_score(1, (SELECT min(lead_id) FROM leadmgmt.lead WHERE status = 'won'))),
          'explain_score explains a won lead too');
SELECT ok((SELECT count(*) = 10 AND max(lift) FILTER (WHERE decile = 1) > 1.5
             FROM leadmgmt.model_lift WHERE model_id = (SELECT model_id FROM leadmgmt.conversion_model WHERE active)),
          'ten deciles, the top one converts more than 1.5 times the average');
SELECT ok((SELECT count(*) > 0 FROM leadmgmt.model_coefficients WHERE feature = '(intercept)'), 'model_coefficients lists intercepts');

-- activate the naive Bayes baseline: score_leads then uses it, and switching back works
SELECT lives_ok($$SELECT leadmgmt.activate_model(1, (SELECT model_id FROM leadmgmt.conversion_model WHERE kind = 'naive_bayes'))$$,
                'activate_model makes the naive Bayes model the active one');
SELECT leadmgmt.score_leads(1);
SELECT is((SELECT bool_and(l.score_model_id = m.model_id AND m.kind = 'naive_bayes') AND count(DISTINCT m.model_id) = 1
             FROM leadmgmt.lead l JOIN leadmgmt.conversion_model m ON m.org_id = l.org_id
            WHERE m.active AND l.status NOT IN ('won', 'lost')), true,
          'score_leads then scores with the newly active naive Bayes model, the only active one');
SELECT throws_ok($$SELECT leadmgmt.explain_score(1, -1)$$, '23503', 'unknown lead -1 of org 1', 'unknown lead');
SELECT throws_ok($$SELECT leadmgmt.score_leads(1, -1)$$, '23503', 'unknown model -1 of org 1', 'unknown model');
SELECT throws_ok($$SELECT leadmgmt.train_conversion_model(1, 'x', '2026-01-01', '2025-01-01')$$, '22023',
                 'trained_to must be after trained_from', 'a reversed range');
SELECT throws_ok($$SELECT leadmgmt.train_conversion_model(1, 'x', '2025-01-01', '2025-01-02')$$, '22023', NULL,
                 'too few leads to train on');

SELECT * FROM finish();
ROLLBACK;
