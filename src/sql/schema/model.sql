
CREATE VIEW @extschema@.model_registry WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, cm.kind, cm.active, cm.trained_at, cm.trained_from, cm.trained_to,
       cm.test_from, cm.rows_train, cm.rows_test, cm.positives_train,
       round(cm.auc_train::numeric, 4) AS auc_train, round(cm.auc_test::numeric, 4) AS auc_test,
       round(cm.log_loss_test::numeric, 4) AS log_loss_test, cm.iterations, cm.converged,
       jsonb_array_length(cm.encoding -> 'features') AS features,
       cm.stage
  FROM @extschema@.conversion_model cm;
COMMENT ON VIEW @extschema@.model_registry IS 'every trained conversion model with its held-out metrics, logreg and the naive Bayes baseline side by side';
COMMENT ON COLUMN @extschema@.model_registry.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_registry.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_registry.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_registry.version IS 'version under its name';
COMMENT ON COLUMN @extschema@.model_registry.kind IS 'logreg or naive_bayes';
COMMENT ON COLUMN @extschema@.model_registry.active IS 'the active model of its stage: the one score_leads (contact) or ingest_lead (form) uses';
COMMENT ON COLUMN @extschema@.model_registry.trained_at IS 'when it was trained';
COMMENT ON COLUMN @extschema@.model_registry.trained_from IS 'first lead creation time learned from';
COMMENT ON COLUMN @extschema@.model_registry.trained_to IS 'end of the creation times learned from';
COMMENT ON COLUMN @extschema@.model_registry.test_from IS 'start of the held-out period';
COMMENT ON COLUMN @extschema@.model_registry.rows_train IS 'leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.rows_test IS 'held-out leads';
COMMENT ON COLUMN @extschema@.model_registry.positives_train IS 'converted leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.auc_train IS 'ROC AUC on the training leads';
COMMENT ON COLUMN @extschema@.model_registry.auc_test IS 'ROC AUC on the held-out leads (compare models here)';
COMMENT ON COLUMN @extschema@.model_registry.log_loss_test IS 'log loss on the held-out leads (lower is better)';
COMMENT ON COLUMN @extschema@.model_registry.iterations IS 'IRLS passes (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.converged IS 'whether the fit converged (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.stage IS 'contact (learns from reps'' work too: lead.score) or form (only what the form brings: lead.form_score); since 0.16';
COMMENT ON COLUMN @extschema@.model_registry.features IS 'number of features in the encoding';

CREATE VIEW @extschema@.model_coefficients WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, c.i::int AS position,
       CASE WHEN c.i = 1 THEN '(intercept)' ELSE cm.encoding -> 'features' -> (c.i::int - 2) ->> 'name' END AS feature,
       c.coef AS coefficient, cm.std_err[c.i] AS std_err, cm.p_values[c.i] AS p_value, exp(c.coef) AS odds_ratio
  FROM @extschema@.conversion_model cm, unnest(cm.coef) WITH ORDINALITY c(coef, i)
 WHERE cm.kind = 'logreg';
COMMENT ON VIEW @extschema@.model_coefficients IS 'coefficients of each logreg model with standard error, p-value and odds ratio';
COMMENT ON COLUMN @extschema@.model_coefficients.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_coefficients.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_coefficients.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_coefficients.version IS 'model version';
COMMENT ON COLUMN @extschema@.model_coefficients.position IS '1 for the intercept, then the features in encoding order';
COMMENT ON COLUMN @extschema@.model_coefficients.feature IS 'feature name, such as channel=douyin or log_touches';
COMMENT ON COLUMN @extschema@.model_coefficients.coefficient IS 'coefficient on the log-odds';
COMMENT ON COLUMN @extschema@.model_coefficients.std_err IS 'its standard error';
COMMENT ON COLUMN @extschema@.model_coefficients.p_value IS 'Wald p-value';
COMMENT ON COLUMN @extschema@.model_coefficients.odds_ratio IS 'exp(coefficient): how the odds of converting multiply';

CREATE VIEW @extschema@.score_distribution WITH (security_invoker = true) AS
SELECT l.org_id, coalesce(l.tier::text, 'none') AS tier, ch.code AS channel, count(*) AS scored_leads,
       round(avg(l.score)::numeric, 4) AS mean_score,
       round((percentile_cont(0.1) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS p10_score,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS median_score,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS p90_score
  FROM @extschema@.lead l
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
 WHERE l.score IS NOT NULL
 GROUP BY l.org_id, l.tier, ch.code;
COMMENT ON VIEW @extschema@.score_distribution IS 'distribution of lead scores by tier and first channel';
COMMENT ON COLUMN @extschema@.score_distribution.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.score_distribution.tier IS 'lead tier A to D, none when not tiered yet';
COMMENT ON COLUMN @extschema@.score_distribution.channel IS 'first channel code';
COMMENT ON COLUMN @extschema@.score_distribution.scored_leads IS 'leads with a score';
COMMENT ON COLUMN @extschema@.score_distribution.mean_score IS 'mean score';
COMMENT ON COLUMN @extschema@.score_distribution.p10_score IS '10th percentile of the score';
COMMENT ON COLUMN @extschema@.score_distribution.median_score IS 'median score';
COMMENT ON COLUMN @extschema@.score_distribution.p90_score IS '90th percentile of the score';

-- every lead's features (since 0.12; lead_feature_values(org_id) gives one
-- org's rows): a view, so that model_lift joins it where Citus can plan it
CREATE VIEW @extschema@.lead_features WITH (security_invoker = true) AS
WITH touches AS (
  SELECT t.org_id, t.lead_id, count(*) AS n FROM @extschema@.touchpoint t GROUP BY t.org_id, t.lead_id
), first_contact AS (
  SELECT f.org_id, f.lead_id, min(f.occurred_at) AS at FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), ev AS (
  -- the behaviour stage, as lead_tiers() has it
  SELECT e.org_id, e.lead_id,
         bool_or(e.event_type = 'trial_booked' AND e.attrs @> '{"self_booked": true}') AS self_booked,
         bool_or(e.event_type = 'wechat_followed') AS followed,
         bool_or(e.event_type = 'sms_verified') AS verified
    FROM @extschema@.lead_event e
   WHERE e.event_type IN ('trial_booked', 'wechat_followed', 'sms_verified')
   GROUP BY e.org_id, e.lead_id
), tr AS (
  SELECT DISTINCT t.org_id, t.lead_id FROM @extschema@.trial_lesson t WHERE t.self_booked
), tags AS (
  -- each tag of the lead as a feature of its own, "tag <name>": 1 (since 0.17)
  SELECT lt.org_id, lt.lead_id, jsonb_object_agg('tag ' || tg.name, 1) AS vals
    FROM @extschema@.lead_tag lt JOIN @extschema@.tag tg ON tg.org_id = lt.org_id AND tg.tag_id = lt.tag_id
   GROUP BY lt.org_id, lt.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       jsonb_build_object(
         'channel', ch.code,
         'subject', coalesce(l.subject, 'unknown'),
         'grade', coalesce('grade ' || l.grade, 'unknown'),
         'city_tier', coalesce('tier ' || l.city_tier, 'unknown'),
         'age_band', coalesce((2 * (l.child_age / 2)) || '-' || (2 * (l.child_age / 2) + 1), 'unknown'),
         'stage', (CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                        WHEN ev.verified THEN 'C' ELSE 'D' END)::char(1),
         'log_touches', ln(1 + coalesce(tc.n, 0)),
         'log_response_hours', CASE WHEN fc.at IS NULL THEN 0
                                    ELSE ln(1 + least(720, greatest(0, extract(epoch FROM fc.at - l.created_at) / 3600))) END,
         'no_follow_up', (fc.at IS NULL)::int) || coalesce(tg.vals, '{}') AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN tags tg ON tg.org_id = l.org_id AND tg.lead_id = l.lead_id
  LEFT JOIN ev ON ev.org_id = l.org_id AND ev.lead_id = l.lead_id
  LEFT JOIN tr ON tr.org_id = l.org_id AND tr.lead_id = l.lead_id
  LEFT JOIN touches tc ON tc.org_id = l.org_id AND tc.lead_id = l.lead_id
  LEFT JOIN first_contact fc ON fc.org_id = l.org_id AND fc.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_features IS 'the raw attributes the conversion model learns from, per lead (channel, subject, grade, city tier, age band, behaviour stage, touches, response time, tags), with the label: paid within org.conversion_days';
COMMENT ON COLUMN @extschema@.lead_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_features.created_at IS 'when the lead came in';
COMMENT ON COLUMN @extschema@.lead_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_features.vals IS 'the features as a JSON object: channel, subject, grade, city_tier, age_band, stage (A-D), log_touches, log_response_hours, no_follow_up, and "tag <name>": 1 for each tag of the lead (grade and tags since 0.17)';
COMMENT ON COLUMN @extschema@.lead_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';

-- (a view of its own: a step of before makes lead_features again, and a
-- view cannot lose columns)
CREATE VIEW @extschema@.lead_form_features WITH (security_invoker = true) AS
WITH prior AS (
  -- the touches before the form: a visitor's anonymous journey
  SELECT t.org_id, t.lead_id, count(*) AS n
    FROM @extschema@.touchpoint t
    JOIN @extschema@.lead x ON x.org_id = t.org_id AND x.lead_id = t.lead_id
   WHERE t.occurred_at < x.created_at
   GROUP BY t.org_id, t.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), tags AS (
  -- the tags the lead had when its form arrived, "tag <name>": 1 (since 0.17)
  SELECT lt.org_id, lt.lead_id, jsonb_object_agg('tag ' || tg.name, 1) AS vals
    FROM @extschema@.lead_tag lt
    JOIN @extschema@.tag tg ON tg.org_id = lt.org_id AND tg.tag_id = lt.tag_id
    JOIN @extschema@.lead x ON x.org_id = lt.org_id AND x.lead_id = lt.lead_id
   WHERE lt.tagged_at <= x.created_at
   GROUP BY lt.org_id, lt.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       @extschema@.lead_form_vals(ch.code, cp.code, l.subject, l.city_tier, l.child_age, l.grade,
                                  l.created_at AT TIME ZONE o.timezone, l.attrs ->> 'variant', pr.n)
         || coalesce(tg.vals, '{}') AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  LEFT JOIN prior pr ON pr.org_id = l.org_id AND pr.lead_id = l.lead_id
  LEFT JOIN tags tg ON tg.org_id = l.org_id AND tg.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_form_features IS 'the form-time features of each lead (since 0.16): only what is known when its form arrives, which a form-stage conversion model learns from and ingest_lead scores; the label as in lead_features';
COMMENT ON COLUMN @extschema@.lead_form_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_form_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_form_features.created_at IS 'when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_form_features.vals IS 'the features as a JSON object (lead_form_vals()): channel, campaign, subject, city_tier, age_band, grade, daypart, weekend, variant, log_prior_touches, and (since 0.17) "tag <name>": 1 for each tag the lead had when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_form_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';

CREATE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
-- the features from the view lead_features since 0.12 (a table-reading
-- function per org before, which Citus cannot run inside a shard's query);
-- since 0.15 each model reads its held-out leads in a LATERAL subquery
-- (through lead's (org_id, created_at) index), so that an org without
-- models reads no lead (1.5 s at the demo's scale 1 before)
WITH held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f  -- (not pulled up into a join: read model by model)
   WHERE cm.stage = 'contact'
  UNION ALL
  -- (since 0.16) a form model's, on their form-time features
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals), f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_form_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f
   WHERE cm.stage = 'form'
), d AS (
  -- (ties broken by lead since 0.15: leads of equal score fell into
  -- deciles in whatever order the plan read them)
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC, h.lead_id) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
COMMENT ON VIEW @extschema@.model_lift IS 'lift by score decile (1 = highest scores) on each model''s held-out leads: how much better than average each tenth converts';
COMMENT ON COLUMN @extschema@.model_lift.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_lift.model_id IS 'model';
COMMENT ON COLUMN @extschema@.model_lift.decile IS 'score decile, 1 for the highest tenth';
COMMENT ON COLUMN @extschema@.model_lift.leads IS 'leads in the decile';
COMMENT ON COLUMN @extschema@.model_lift.converted IS 'of which converted within org.conversion_days';
COMMENT ON COLUMN @extschema@.model_lift.conversion_rate IS 'converted / leads';
COMMENT ON COLUMN @extschema@.model_lift.lift IS 'conversion rate of the decile / conversion rate of all held-out leads';
COMMENT ON COLUMN @extschema@.model_lift.min_score IS 'lowest score in the decile';
COMMENT ON COLUMN @extschema@.model_lift.max_score IS 'highest score in the decile';
