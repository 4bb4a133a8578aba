-- lead tiers, refresh_tiers and its log, cost-tiered routing, funnel views
\pset null '<null>'
SET timezone = 'Asia/Shanghai';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

SELECT leadmgmt.create_org('Tier School') AS org \gset
SELECT leadmgmt.add_channel(:org, 'douyin', 'Douyin', 'paid') AS ch \gset
-- five leads: form only, SMS verified, WeChat followed, self-booked trial, booked by sales
SELECT lead_id AS d FROM leadmgmt.ingest_lead(:org, '13100000001', 'douyin', 'c1', '2025-03-01 10:00+08') \gset
SELECT lead_id AS c FROM leadmgmt.ingest_lead(:org, '13100000002', 'douyin', 'c1', '2025-03-01 10:00+08') \gset
SELECT lead_id AS b FROM leadmgmt.ingest_lead(:org, '13100000003', 'douyin', 'c1', '2025-03-01 10:00+08') \gset
SELECT lead_id AS a FROM leadmgmt.ingest_lead(:org, '13100000004', 'douyin', 'c1', '2025-03-01 10:00+08') \gset
SELECT lead_id AS s FROM leadmgmt.ingest_lead(:org, '13100000005', 'douyin', 'c1', '2025-03-01 10:00+08') \gset
SELECT leadmgmt.record_event(:org, l, 'sms_verified', '2025-03-01 10:05+08') > 0
  FROM unnest(ARRAY[:c, :b, :a, :s]::bigint[]) l;
SELECT leadmgmt.record_event(:org, l, 'wechat_followed', '2025-03-01 10:30+08') > 0
  FROM unnest(ARRAY[:b, :a, :s]::bigint[]) l;
SELECT leadmgmt.record_event(:org, :a, 'trial_booked', '2025-03-01 11:00+08', '{"self_booked": true}') > 0 AS self_booked;
SELECT leadmgmt.record_event(:org, :s, 'trial_booked', '2025-03-02 11:00+08', '{"self_booked": false}') > 0 AS booked_by_sales;

SELECT lead_id = :d AS is_d, lead_id = :c AS is_c, stage, score, tier, reason
  FROM leadmgmt.lead_tiers(:org) ORDER BY lead_id;
SELECT leadmgmt.lead_tier(:org, :a) AS a, leadmgmt.lead_tier(:org, :d) AS d,
       leadmgmt.lead_tier(:org, 424242) AS unknown_lead, leadmgmt.lead_tier(NULL, :a) AS null_org;

-- each event that moved a stage re-tiered its lead at once (since 0.17);
-- the batch refresh catches up the one lead no event moved (D), each change
-- logged with its reason
SELECT leadmgmt.refresh_tiers(:org) AS changed;
SELECT lead_id = :a AS is_a, old_tier, new_tier, stage, reason FROM leadmgmt.tier_change WHERE org_id = :org ORDER BY lead_id, change_id;
SELECT leadmgmt.refresh_tiers(:org) AS changed_again;

-- a model score promotes by the policy thresholds (defaults: A 0.50, B 0.20, C 0.05)
UPDATE leadmgmt.lead SET score = 0.55 WHERE lead_id = :d;
UPDATE leadmgmt.lead SET score = 0.01 WHERE lead_id = :b;
SELECT leadmgmt.refresh_tiers(:org) AS changed_by_score;
SELECT lead_id = :d AS is_d, old_tier, new_tier, stage, score, reason FROM leadmgmt.tier_change
 WHERE org_id = :org AND changed_at = (SELECT max(changed_at) FROM leadmgmt.tier_change WHERE org_id = :org);
SELECT leadmgmt.lead_tier(:org, :b) AS low_score_never_demotes;

-- a customised policy: A needs 0.60 now, so the 0.55 lead falls back to B
INSERT INTO leadmgmt.tier_policy (org_id, tier, handler_role, cost_per_contact, follow_up_sla, min_score)
VALUES (:org, 'A', 'top_sales', 40.00, '30 minutes', 0.60);
SELECT tier, handler_role, cost_per_contact, follow_up_sla, min_score, is_customised
  FROM leadmgmt.effective_tier_policy WHERE org_id = :org ORDER BY tier;
SELECT leadmgmt.refresh_tiers(:org) AS changed_by_policy;
SELECT leadmgmt.lead_tier(:org, :d) AS d_now;

SELECT pg_temp.err($$SELECT leadmgmt.refresh_tiers(987654)$$) AS unknown_org;
SELECT pg_temp.err($$SELECT leadmgmt.refresh_tiers(NULL)$$) AS null_org;
SELECT leadmgmt.refresh_tiers(leadmgmt.create_org('Empty School')) AS empty_org;
SELECT pg_temp.err(format($$INSERT INTO leadmgmt.tier_policy VALUES (%s, 'E', 'sales', 1, '1 hour', 0.5)$$, :org)) AS bad_tier;
SELECT pg_temp.err(format($$INSERT INTO leadmgmt.tier_policy VALUES (%s, 'B', 'sales', -1, '1 hour', 0.5)$$, :org)) AS negative_cost;
SELECT pg_temp.err(format($$INSERT INTO leadmgmt.tier_policy VALUES (%s, 'B', 'sales', 1, '0', 0.5)$$, :org)) AS zero_sla;
SELECT pg_temp.err(format($$INSERT INTO leadmgmt.tier_policy VALUES (%s, 'B', 'sales', 1, '1 hour', 1.5)$$, :org)) AS score_above_one;

-- cost-tiered routing: a bot contact costs 0.30, regular sales 20.00 a contact
INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (:org, 'Bot', 'ai_bot'), (:org, 'Wang', 'sales');
SELECT min(rep_id) AS bot, max(rep_id) AS rep FROM leadmgmt.sales_rep WHERE org_id = :org \gset
INSERT INTO leadmgmt.follow_up (org_id, lead_id, rep_id, channel, outcome, cost, occurred_at)
VALUES (:org, :d, :bot, 'ai_call', 'no_answer', 0.30, '2025-03-01 10:10+08'),
       (:org, :c, :bot, 'ai_call', 'connected', 0.30, '2025-03-01 10:10+08'),
       (:org, :b, :rep, 'call', 'interested', 20.00, '2025-03-01 11:00+08'),
       (:org, :b, :rep, 'call', 'connected', 20.00, '2025-03-02 11:00+08'),
       (:org, :a, :rep, 'call', 'trial_booked', 20.00, '2025-03-01 11:00+08'),
       (:org, :s, :rep, 'call', 'trial_booked', 20.00, '2025-03-01 11:00+08');
SELECT leadmgmt.record_spend(:org, '2025-03-01', 'douyin', 'c1', 500.00, 10000, 100) > 0 AS spend;
INSERT INTO leadmgmt.sales_order (org_id, lead_id, product, list_price, amount, created_at, paid_at)
VALUES (:org, :a, 'term', 3000, 3000, '2025-03-10+08', '2025-03-10+08');
SELECT month, channel, leads, paid_students, spend, handling_cost_tiered, handling_cost_flat,
       cost_per_paid_student_tiered, cost_per_paid_student_flat, saving_pct
  FROM leadmgmt.tier_routing_savings WHERE org_id = :org;

-- funnel views: lead a went touch, lead, sms, wechat, trial booked; lead d only touch and lead
SELECT leadmgmt.record_event(:org, :a, 'trial_attended', '2025-03-05 10:00+08') > 0 AS attended;
SELECT leadmgmt.record_event(:org, :a, 'paid', '2025-03-10 10:00+08') > 0 AS paid;
SELECT lead_id = :a AS is_a, cohort_date, channel, campaign, steps_reached, touched_at, became_lead_at, sms_verified_at,
       wechat_followed_at, trial_booked_at, trial_attended_at, paid_at, renewed_at
  FROM leadmgmt.lead_funnel WHERE org_id = :org ORDER BY lead_id;
SELECT step_number, step_name, leads_reached, conversion_from_previous, conversion_from_first,
       median_hours_from_previous, p90_hours_from_previous
  FROM leadmgmt.funnel_report
 WHERE org_id = :org AND period_grain = 'month' AND breakdown = 'all' ORDER BY step_number;
SELECT period_grain, breakdown, breakdown_value, count(*) AS steps
  FROM leadmgmt.funnel_report WHERE org_id = :org
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- a shorter window cuts the chain: paid came 9 days after the lead
UPDATE leadmgmt.org SET funnel_window = '7 days' WHERE org_id = :org;
SELECT steps_reached FROM leadmgmt.lead_funnel WHERE org_id = :org AND lead_id = :a;

-- the default policy, written once (src/tiers.c): an org without policy rows runs it
SELECT * FROM leadmgmt.tier_defaults();
SELECT count(*) AS tiers, bool_and(NOT p.is_customised AND p.handler_role = d.handler_role
                                   AND p.cost_per_contact = d.cost_per_contact AND p.follow_up_sla = d.follow_up_sla
                                   AND p.min_score = d.min_score) AS defaults_apply
  FROM leadmgmt.effective_tier_policy p JOIN leadmgmt.tier_defaults() d USING (tier)
 WHERE p.org_id = (SELECT org_id FROM leadmgmt.org WHERE name = 'Empty School');
