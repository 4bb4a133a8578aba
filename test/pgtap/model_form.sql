-- role: postgres
-- The form-time model (0.16): trained on what is known when the form
-- arrives, active beside the contact model, and scoring each new lead inside
-- ingest_lead with the score score_leads gives (to 1e-12).
BEGIN;
SELECT * FROM no_plan();

CREATE TEMP TABLE m AS
SELECT leadmgmt.train_conversion_model(1, 'at the form', '2025-01-01', '2026-01-01', stage => 'form') AS form_id,
       leadmgmt.train_conversion_model(1, 'after contact', '2025-01-01', '2026-01-01') AS contact_id;
SELECT is((SELECT array_agg(stage || ':' || active ORDER BY stage) FROM leadmgmt.model_registry
            WHERE org_id = 1 AND model_id IN (SELECT form_id FROM m UNION ALL SELECT contact_id FROM m)),
          '{contact:true,form:true}', 'a form model and a contact model are active side by side');
SELECT ok((SELECT bool_and(f ->> 'field' IN ('channel', 'campaign', 'subject', 'city_tier', 'age_band', 'grade', 'daypart',
                                              'weekend', 'variant', 'log_prior_touches'))
             FROM leadmgmt.conversion_model cm, jsonb_array_elements(cm.encoding -> 'features') f
            WHERE cm.org_id = 1 AND cm.model_id = (SELECT form_id FROM m)),
          'the form model learns only from form-time fields');
SELECT ok((SELECT NOT bool_or(f ->> 'field' IN ('stage', 'log_touches', 'log_response_hours', 'no_follow_up'))
             FROM leadmgmt.conversion_model cm, jsonb_array_elements(cm.encoding -> 'features') f
            WHERE cm.org_id = 1 AND cm.model_id = (SELECT form_id FROM m)),
          'nothing a rep''s work makes (behaviour stage, touches, response time)');
SELECT ok((SELECT auc_test BETWEEN 0.5 AND 1 FROM leadmgmt.model_registry WHERE org_id = 1 AND model_id = (SELECT form_id FROM m)),
          'the form model has a held-out AUC');

-- a new lead is scored in ingest_lead, by the active form model
CREATE TEMP TABLE l AS
SELECT lead_id FROM leadmgmt.ingest_lead(1, '13911112222', 'douyin', NULL, now(),
                                         '{"grade": 3, "subject": "math", "city_tier": 1, "child_age": 8, "variant": "b"}');
CREATE TEMP TABLE at_form AS
SELECT ld.form_score, ld.form_score_model_id FROM leadmgmt.lead ld WHERE ld.org_id = 1 AND ld.lead_id = (SELECT lead_id FROM l);
SELECT ok((SELECT form_score BETWEEN 0 AND 1 FROM at_form), 'ingest_lead scores the new lead');
SELECT is((SELECT form_score_model_id FROM at_form), (SELECT form_id FROM m), 'with the active form model');
SELECT is((SELECT score FROM leadmgmt.lead WHERE org_id = 1 AND lead_id = (SELECT lead_id FROM l)), NULL::float8,
          'the contact score waits for score_leads');
-- score_leads with the form model gives every open lead the same score again
SELECT cmp_ok(leadmgmt.score_leads(1, (SELECT form_id FROM m)), '>', 0, 'score_leads rescores with the form model');
SELECT ok((SELECT abs(ld.form_score - a.form_score) < 1e-12 FROM leadmgmt.lead ld, at_form a
            WHERE ld.org_id = 1 AND ld.lead_id = (SELECT lead_id FROM l)),
          'score_leads gives the score ingest_lead gave, to 1e-12');
SELECT is((SELECT count(*) FROM leadmgmt.lead ld JOIN leadmgmt.lead_form_features f USING (org_id, lead_id)
            JOIN leadmgmt.conversion_model cm ON cm.org_id = ld.org_id AND cm.model_id = ld.form_score_model_id
            WHERE ld.org_id = 1 AND ld.status NOT IN ('won', 'lost')
              AND abs(ld.form_score - leadmgmt.logreg_predict_coef(cm.coef, leadmgmt.model_features(cm.encoding, f.vals))) >= 1e-12),
          0::bigint, 'model_score (C) equals logreg_predict_coef of model_features (SQL) on every open lead, to 1e-12');
SELECT is((SELECT count(*) FROM leadmgmt.lead WHERE org_id = 1 AND score_model_id = (SELECT form_id FROM m)), 0::bigint,
          'a form model never writes the contact score');

-- an anonymous journey before the form counts, and becomes the lead's
SELECT ok(leadmgmt.record_touch(1, NULL, 'baidu', NULL, now() - interval '2 days', 'visit', 'v-form-1') IS NOT NULL, 'an anonymous visit');
SELECT ok(leadmgmt.record_touch(1, NULL, 'douyin', NULL, now() - interval '1 day', 'ad_click', 'v-form-1') IS NOT NULL, 'an anonymous click');
CREATE TEMP TABLE l2 AS
SELECT lead_id FROM leadmgmt.ingest_lead(1, '13911113333', 'douyin', NULL, now(), '{"visitor_id": "v-form-1"}');
SELECT is((SELECT count(*) FROM leadmgmt.touchpoint WHERE org_id = 1 AND lead_id = (SELECT lead_id FROM l2)), 3::bigint,
          'the visitor''s two anonymous touches and the form are the lead''s');
SELECT is((SELECT (vals ->> 'log_prior_touches')::float8 FROM leadmgmt.lead_form_features
            WHERE org_id = 1 AND lead_id = (SELECT lead_id FROM l2)), ln(3::float8), 'two touches before the form');
CREATE TEMP TABLE at_form2 AS SELECT form_score FROM leadmgmt.lead WHERE org_id = 1 AND lead_id = (SELECT lead_id FROM l2);
SELECT cmp_ok(leadmgmt.score_leads(1, (SELECT form_id FROM m)), '>', 0, 'rescored');
SELECT ok((SELECT abs(ld.form_score - a.form_score) < 1e-12 FROM leadmgmt.lead ld, at_form2 a
            WHERE ld.org_id = 1 AND ld.lead_id = (SELECT lead_id FROM l2)),
          'the journey is in the score at the form as in the rescoring');

-- one active model per stage
SELECT lives_ok(format('SELECT leadmgmt.activate_model(1, %s)', (SELECT contact_id FROM m)), 'activating a contact model');
SELECT is((SELECT active FROM leadmgmt.conversion_model WHERE org_id = 1 AND model_id = (SELECT form_id FROM m)), true,
          'leaves the form model active');
SELECT throws_ok($$SELECT leadmgmt.train_conversion_model(1, 'x', '2025-01-01', '2026-01-01', stage => 'landing')$$, '22023',
                 'invalid model stage "landing"', 'an unknown stage');
SELECT throws_ok($$SELECT leadmgmt.train_conversion_model(1, 'x', '2025-01-01', '2026-01-01', stage => NULL)$$, '22004', NULL,
                 'a NULL stage');
SELECT throws_ok($$SELECT leadmgmt.model_score('{0.1}', '{"features": 1}', '{}')$$, '22023', 'invalid model encoding',
                 'model_score: an encoding without a features array');
SELECT throws_ok($$SELECT leadmgmt.model_score('{0.1, 0.2}', '{"features": [{"field": "x"}]}', '[]')$$, '22023', NULL,
                 'model_score: values that are not an object');
SELECT throws_ok($$SELECT leadmgmt.model_score('{0.1, 0.2}', '{"features": [{"field": "x"}]}', '{"x": "many"}')$$, '22P02', NULL,
                 'model_score: a numeric field that is not a number');
SELECT is(leadmgmt.model_score('{0, 1, 1}', '{"features": [{"field": "c", "level": "a"}, {"field": "n"}]}', '{"c": "a", "n": 0}'),
          1 / (1 + exp(-1::float8)), 'model_score: a level that matches, a numeric zero');

-- serial and forced-parallel training give the same form model
SELECT tap.force_parallel();
CREATE TEMP TABLE par AS SELECT leadmgmt.train_conversion_model(1, 'at the form, parallel', '2025-01-01', '2026-01-01', stage => 'form') AS id;
SELECT tap.serial();
SELECT ok((SELECT bool_and(abs(a - b) < 1e-9) FROM leadmgmt.conversion_model x, leadmgmt.conversion_model y,
                  unnest(x.coef, y.coef) u(a, b)
            WHERE x.org_id = 1 AND y.org_id = 1 AND x.model_id = (SELECT form_id FROM m) AND y.model_id = (SELECT id FROM par)),
          'the same coefficients serially and in forced-parallel plans');

SELECT * FROM finish();
ROLLBACK;
