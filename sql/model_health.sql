-- model_health: the health of the active conversion models (0.17): the
-- population stability index of the last 30 days' scores against the
-- held-out leads', calibration by decile on the leads resolved lately, and
-- retrain_due with its reasons, on an org whose clock is 1 March 2026.
-- No id is printed: on a Citus cluster each worker numbers its own rows.
SET client_min_messages = warning;
SET TimeZone = 'Asia/Shanghai';
SELECT leadmgmt.create_org('Health School') AS org \gset
UPDATE leadmgmt.org SET report_as_of = '2026-03-01 00:00+08' WHERE org_id = :org;
SELECT leadmgmt.add_channel(:org, 'baidu', 'Baidu', 'paid') IS NOT NULL AS channel;
-- a form model whose held-out leads scored 80% below 0.5 and 20% above
INSERT INTO leadmgmt.conversion_model (org_id, name, version, kind, active, trained_from, trained_to, test_from, conversion_days,
                                       encoding, coef, rows_train, rows_test, positives_train, stage, calibration_test)
VALUES (:org, 'form', 1, 'logreg', true, '2025-01-01', '2025-10-01', '2025-08-01', 30, '{"features": []}', '{-2}', 100, 100, 10, 'form',
        '[{"bin": 1, "rows": 80, "lower_bound": 0, "upper_bound": 0.5, "mean_predicted": 0.1, "observed_rate": 0.1},
          {"bin": 2, "rows": 20, "lower_bound": 0.5, "upper_bound": 1, "mean_predicted": 0.7, "observed_rate": 0.7}]');
-- no lead yet: nothing to measure, nothing due
SELECT name, stage, data_age_days, recent_leads, psi, resolved_leads, calibration_error, retrain_due, reason
  FROM leadmgmt.model_health WHERE org_id = :org;

-- 100 leads of February, scored by the model: half below 0.5, half above
SELECT count(*) AS leads FROM generate_series(1, 100) i,
       leadmgmt.ingest_lead(:org, format('1350000%04s', i), 'baidu', NULL, '2026-02-01 10:00+08'::timestamptz + i * interval '1 hour') x;
UPDATE leadmgmt.lead l SET form_score = CASE WHEN x.i <= 50 THEN 0.2 ELSE 0.8 END,
       form_score_model_id = (SELECT model_id FROM leadmgmt.conversion_model WHERE org_id = :org)
  FROM (SELECT lead_id, row_number() OVER (ORDER BY created_at) AS i FROM leadmgmt.lead WHERE org_id = :org) x
 WHERE l.org_id = :org AND l.lead_id = x.lead_id;
-- PSI by hand: (0.5 - 0.8) ln(0.5/0.8) + (0.5 - 0.2) ln(0.5/0.2)
SELECT recent_leads, psi, round(((0.5 - 0.8) * ln(0.5 / 0.8) + (0.5 - 0.2) * ln(0.5 / 0.2))::numeric, 4) AS psi_by_hand,
       retrain_due, reason
  FROM leadmgmt.model_health WHERE org_id = :org;

-- 200 leads of December 2025 (their 30 days closed before 1 March), all
-- scored 0.1, half of them paid within the window: every decile is off by 0.4
SELECT count(*) AS leads FROM generate_series(1, 200) i,
       leadmgmt.ingest_lead(:org, format('1351000%04s', i), 'baidu', NULL, '2025-12-01 10:00+08'::timestamptz + i * interval '1 hour') x;
UPDATE leadmgmt.lead l SET form_score = 0.1, form_score_model_id = (SELECT model_id FROM leadmgmt.conversion_model WHERE org_id = :org)
 WHERE l.org_id = :org AND l.created_at < '2026-01-01';
-- (the leads read into a temporary table first, each order a call of its
-- own: on a Citus cluster no write function runs inside a query on a shard)
CREATE TEMP TABLE paying AS
SELECT :org::bigint AS org_id, x.lead_id, x.created_at FROM (SELECT lead_id, created_at, row_number() OVER (ORDER BY created_at) AS i FROM leadmgmt.lead
                                      WHERE org_id = :org AND created_at < '2026-01-01') x
 WHERE x.i % 2 = 0;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT p.org_id, p.lead_id, p.created_at FROM paying p ORDER BY p.created_at LOOP
    PERFORM leadmgmt.record_order(r.org_id, r.lead_id, 'course', 1000, r.created_at + interval '10 days');
  END LOOP;
END $$;
SELECT count(*) AS orders FROM leadmgmt.sales_order WHERE org_id = :org;
SELECT decile, leads, mean_score, observed_rate, gap FROM leadmgmt.model_calibration_recent WHERE org_id = :org ORDER BY decile;
SELECT recent_leads, psi, resolved_leads, calibration_error, retrain_due, reason FROM leadmgmt.model_health WHERE org_id = :org;

-- the same scores as the held-out leads' shares: stable (a lead above 0.5
-- for every four below)
UPDATE leadmgmt.lead l SET form_score = CASE WHEN x.i % 5 = 0 THEN 0.8 ELSE 0.2 END
  FROM (SELECT lead_id, row_number() OVER (ORDER BY created_at) AS i FROM leadmgmt.lead
         WHERE org_id = :org AND created_at >= '2026-01-01') x
 WHERE l.org_id = :org AND l.lead_id = x.lead_id;
SELECT recent_leads, psi, retrain_due FROM leadmgmt.model_health WHERE org_id = :org;
-- a year on, the model's data are old
UPDATE leadmgmt.org SET report_as_of = '2026-06-01 00:00+08' WHERE org_id = :org;
SELECT data_age_days, recent_leads, psi, resolved_leads, retrain_due, reason FROM leadmgmt.model_health WHERE org_id = :org;
-- a model that is not active is not watched
UPDATE leadmgmt.conversion_model SET active = false WHERE org_id = :org;
SELECT count(*) AS watched FROM leadmgmt.model_health WHERE org_id = :org;

-- grade and tags are features of both models (0.17): a lead's tags as "tag
-- <name>": 1, those it had when its form arrived in the form-time features
SELECT leadmgmt.create_org('Feature School') AS fo \gset
SELECT leadmgmt.add_channel(:fo, 'baidu', 'Baidu', 'paid') IS NOT NULL AS channel;
SELECT lead_id AS fl FROM leadmgmt.ingest_lead(:fo, '13520000001', 'baidu', NULL, '2026-02-01 10:00+08', '{"grade": 3}') \gset
INSERT INTO leadmgmt.tag (org_id, name) VALUES (:fo, '二胎 second child'), (:fo, '高意向 high intent');
INSERT INTO leadmgmt.lead_tag (org_id, lead_id, tag_id, tagged_at)
SELECT :fo, :fl, tag_id, CASE WHEN name LIKE '二胎%' THEN '2026-02-01 10:00+08'::timestamptz ELSE '2026-02-02 10:00+08' END
  FROM leadmgmt.tag WHERE org_id = :fo;
SELECT vals ->> 'grade' AS grade, vals -> 'tag 二胎 second child' AS second_child, vals -> 'tag 高意向 high intent' AS high_intent
  FROM leadmgmt.lead_features WHERE org_id = :fo;
SELECT vals ->> 'grade' AS grade, vals -> 'tag 二胎 second child' AS second_child, vals -> 'tag 高意向 high intent' AS high_intent
  FROM leadmgmt.lead_form_features WHERE org_id = :fo;
