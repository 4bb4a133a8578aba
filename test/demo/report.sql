-- test/demo/report.sql -- the short report 'make demo' prints from the views
\pset footer off
\pset border 1
SET timezone = 'Asia/Shanghai';

\echo
\echo '== Channels in 2025 (view leadmgmt.channel_daily) =='
SELECT channel, channel_kind AS kind, sum(spend) AS spend, sum(leads) AS leads, sum(valid_leads) AS valid_leads,
       round(sum(spend) / nullif(sum(leads), 0), 2) AS cost_per_lead
  FROM leadmgmt.channel_daily WHERE day BETWEEN '2025-01-01' AND '2025-12-31'
 GROUP BY channel, channel_kind ORDER BY sum(spend) DESC, channel;

\echo '== Weekly seasonality: average daily paid spend and leads by weekday =='
SELECT extract(isodow FROM day)::int || ' ' || to_char(day, 'Dy') AS weekday, round(avg(spend), 0) AS avg_spend, round(avg(leads), 1) AS avg_leads
  FROM (SELECT day, sum(spend) AS spend, sum(leads) AS leads FROM leadmgmt.channel_daily
         WHERE day BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY day) d
 GROUP BY 1 ORDER BY 1;

\echo '== Leads by tier, pool and outcome (view leadmgmt.lead_overview) =='
SELECT tier, count(*) AS leads, count(*) FILTER (WHERE pool = 'public') AS in_public_pool,
       count(*) FILTER (WHERE status = 'won') AS won,
       round(100.0 * count(*) FILTER (WHERE status = 'won') / count(*), 1) AS won_pct
  FROM leadmgmt.lead_overview GROUP BY tier ORDER BY tier;

\echo '== Funnel by first channel, 14-day window (leadmgmt.window_funnel): leads that reached at least each step =='
WITH f AS (
  SELECT e.lead_id,
         leadmgmt.window_funnel('14 days', e.occurred_at,
           e.event_type = 'form_submitted', e.event_type = 'sms_verified', e.event_type = 'wechat_followed',
           e.event_type = 'trial_booked', e.event_type = 'trial_attended', e.event_type = 'paid') AS level
    FROM leadmgmt.lead_event e GROUP BY e.lead_id
)
SELECT l.first_channel AS channel, count(*) AS leads,
       count(*) FILTER (WHERE level >= 2) AS sms_verified, count(*) FILTER (WHERE level >= 3) AS wechat_followed,
       count(*) FILTER (WHERE level >= 4) AS trial_booked, count(*) FILTER (WHERE level >= 5) AS trial_attended,
       count(*) FILTER (WHERE level >= 6) AS paid_in_window,
       round(100.0 * count(*) FILTER (WHERE level >= 6) / count(*), 1) AS paid_pct
  FROM f JOIN leadmgmt.lead_overview l USING (lead_id)
 GROUP BY l.first_channel ORDER BY paid_pct DESC, l.first_channel;

\echo '== Tiers: refresh from behaviour (leadmgmt.refresh_tiers), then what cost-tiered routing saved (view leadmgmt.tier_routing_savings) =='
-- each write is a call of its own with the org as a constant, as an
-- application makes it: on a Citus cluster that is what runs on the org's node
SELECT format('SELECT leadmgmt.refresh_tiers(%s) AS tier_changes', org_id) FROM leadmgmt.org ORDER BY org_id \gexec
-- each channel, then the total (a join to the two groupings: Citus plans no ROLLUP)
SELECT CASE g.total WHEN 0 THEN s.channel END AS channel, sum(leads) AS leads, sum(paid_students) AS paid_students, sum(spend) AS spend,
       sum(handling_cost_tiered) AS handling_tiered, sum(handling_cost_flat) AS handling_flat,
       round((sum(spend) + sum(handling_cost_tiered)) / nullif(sum(paid_students), 0), 2) AS cost_per_paid_tiered,
       round((sum(spend) + sum(handling_cost_flat)) / nullif(sum(paid_students), 0), 2) AS cost_per_paid_flat,
       round(100 * (1 - (sum(spend) + sum(handling_cost_tiered)) / nullif(sum(spend) + sum(handling_cost_flat), 0)), 1) AS saving_pct
  FROM leadmgmt.tier_routing_savings s CROSS JOIN (VALUES (0), (1)) g(total)
 GROUP BY g.total, CASE g.total WHEN 0 THEN s.channel END ORDER BY g.total, 1;
SELECT format('Cost-tiered routing cut the cost per paid student from %s to %s: %s%% less than giving every lead to regular sales.',
              round((sum(spend) + sum(handling_cost_flat)) / nullif(sum(paid_students), 0), 2),
              round((sum(spend) + sum(handling_cost_tiered)) / nullif(sum(paid_students), 0), 2),
              round(100 * (1 - (sum(spend) + sum(handling_cost_tiered)) / nullif(sum(spend) + sum(handling_cost_flat), 0)), 1)) AS summary
  FROM leadmgmt.tier_routing_savings;

\echo '== The routing holdout: 10% of leads routed flat to regular sales, drawn at random (view leadmgmt.routing_holdout) =='
SELECT arm, leads, paid_students, conversion_rate, handling_cost, spend_share, cost_per_paid_student,
       saving_pct, saving_ci_low_pct AS ci_low, saving_ci_high_pct AS ci_high
  FROM leadmgmt.routing_holdout ORDER BY org_id, arm DESC;
SELECT format('Measured against the holdout, tiered routing cut the cost per paid student by %s%% (95%% CI %s%% to %s%%), where the seed case reports about 15%%; it converted %s%% of leads where the holdout converted %s%%, so conversions were not equal.',
              t.saving_pct, t.saving_ci_low_pct, t.saving_ci_high_pct, round(100 * t.conversion_rate, 1), round(100 * h.conversion_rate, 1)) AS summary
  FROM leadmgmt.routing_holdout t JOIN leadmgmt.routing_holdout h ON h.org_id = t.org_id AND h.arm = 'holdout'
 WHERE t.arm = 'tiered' ORDER BY t.org_id LIMIT 1;

\echo '== Churn: the demo data run to 1 May 2026 (org.report_as_of) =='
\echo '-- where does churn differ? each segment against the rest (view leadmgmt.segment_churn_test)'
SELECT segment_kind, segment, students, churned_students, expected_churned, churn_ratio, chi2, to_char(p_value, '9.9EEEE') AS p_value
  FROM leadmgmt.segment_churn_test WHERE p_value IS NOT NULL AND segment_kind IN ('age_band', 'grade', 'area', 'channel', 'teacher')
 ORDER BY chi2 DESC, segment_kind, segment LIMIT 8;
\echo '-- student lifetime by grade: Kaplan-Meier median (days) with 95% interval, retention after 1/2/4 terms (view leadmgmt.segment_survival)'
SELECT segment AS grade, students, median_lifetime_days AS median_days, median_ci_low_days AS ci_low, median_ci_high_days AS ci_high,
       retained_after_1_term AS after_1, retained_after_2_terms AS after_2, retained_after_4_terms AS after_4
  FROM leadmgmt.segment_survival WHERE segment_kind = 'grade' ORDER BY segment;
\echo '-- renewal rate (续费率) and class continuation (续班率) by month of term end (view leadmgmt.renewal_rate)'
SELECT term_end_month, up_for_renewal, renewed, renewal_rate, continuation_rate
  FROM leadmgmt.renewal_rate WHERE breakdown = 'all' ORDER BY 1;
SELECT format('Age band 8-9: %s students churned where %s were expected from the other ages (ratio %s, log-rank p = %s): the grade-3 spike, found in one query.',
              churned_students, expected_churned, churn_ratio, coalesce(to_char(p_value, '9.9EEEE'), 'too few to test')) AS summary
  FROM leadmgmt.segment_churn_test WHERE segment_kind = 'age_band' AND segment = '8-9' ORDER BY org_id LIMIT 1;

\echo '== Conversion model: logistic regression against the naive Bayes baseline (view leadmgmt.model_registry) =='
SELECT format($q$SELECT leadmgmt.train_conversion_model(%s, 'conversion', '2025-01-01', '2026-01-01') IS NOT NULL AS logreg_trained$q$, org_id)
  FROM leadmgmt.org ORDER BY org_id \gexec
SELECT format($q$SELECT leadmgmt.train_conversion_model(%s, 'odoo-style baseline', '2025-01-01', '2026-01-01', kind => 'naive_bayes') IS NOT NULL AS naive_bayes_trained$q$, org_id)
  FROM leadmgmt.org ORDER BY org_id \gexec
SELECT name, kind, active, rows_train, rows_test, auc_train, auc_test, log_loss_test, iterations FROM leadmgmt.model_registry ORDER BY model_id;
\echo '-- lift of the active model on its held-out leads (view leadmgmt.model_lift)'
SELECT decile, leads, converted, conversion_rate, lift FROM leadmgmt.model_lift
 WHERE model_id = (SELECT model_id FROM leadmgmt.conversion_model WHERE active) ORDER BY decile;
SELECT format('SELECT leadmgmt.score_leads(%s) AS leads_scored', org_id) FROM leadmgmt.org ORDER BY org_id \gexec
SELECT format('SELECT leadmgmt.refresh_tiers(%s) AS tier_changes_from_scores', org_id) FROM leadmgmt.org ORDER BY org_id \gexec

\echo '== Attribution: conversions per channel under every model (view leadmgmt.attribution_comparison) =='
SELECT channel, first_touch, last_touch, last_non_direct, linear, position_based, time_decay, markov, shapley
  FROM leadmgmt.attribution_comparison ORDER BY last_non_direct DESC, channel;
\echo '-- channel ROI in 2025, credited last-non-direct (view leadmgmt.channel_roi)'
SELECT channel, sum(spend) AS spend, sum(leads) AS leads, round(sum(spend) / nullif(sum(leads), 0), 2) AS cpl,
       sum(paid_students) AS paid_students, round(sum(spend) / nullif(sum(paid_students), 0), 2) AS cpa,
       round(sum(net_revenue) / nullif(sum(spend), 0), 2) AS roas,
       round((sum(spend) + sum(handling_cost)) / nullif(sum(paid_students), 0), 2) AS cac
  FROM leadmgmt.channel_roi
 WHERE period = 'month' AND period_start BETWEEN '2025-01-01' AND '2025-12-01' AND breakdown = 'channel'
 GROUP BY channel ORDER BY roas DESC NULLS LAST, channel;
