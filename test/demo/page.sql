-- test/demo/page.sql -- the data of the demo report page, as one JSON
-- document, read through the public views and functions of leadmgmt only (what
-- a BI user sees), for org :org.  test/demo/page/build.mjs turns it into the
-- page; each chart carries a one-sentence reading computed here from the data.
\set QUIET on
SET timezone = 'Asia/Shanghai';
\pset format unaligned
\pset tuples_only on
WITH
funnel AS (
  SELECT channel, step_number, min(step_name) AS step_name, count(*) AS leads
    FROM leadmgmt.funnel_steps WHERE org_id = :org GROUP BY channel, step_number
), funnel_json AS (
  SELECT json_build_object(
           'steps', (SELECT json_agg(s.step_name ORDER BY s.step_number)
                       FROM (SELECT DISTINCT step_number, step_name FROM funnel) s),
           'series', (SELECT json_agg(json_build_object('name', c.channel,
                                        'data', (SELECT json_agg(f.leads ORDER BY f.step_number) FROM funnel f WHERE f.channel = c.channel))
                                      ORDER BY c.channel)
                        FROM (SELECT DISTINCT channel FROM funnel) c),
           'reading', (SELECT format('%s brings the most leads (%s); %s takes the largest share of its leads to payment (%s%%).',
                                     (array_agg(l.channel ORDER BY l.leads DESC, l.channel))[1], max(l.leads),
                                     (array_agg(l.channel ORDER BY l.paid::numeric / l.leads DESC, l.channel))[1],
                                     round(100 * max(l.paid::numeric / l.leads), 1))
                         FROM (SELECT channel, max(leads) FILTER (WHERE step_number = 2) AS leads,
                                      coalesce(max(leads) FILTER (WHERE step_name = 'paid'), 0) AS paid
                                 FROM funnel GROUP BY channel HAVING max(leads) FILTER (WHERE step_number = 2) > 0) l)) AS j
),
roi AS (
  SELECT channel, sum(spend) AS spend, sum(leads) AS leads, sum(paid_students) AS paid,
         round(sum(spend) / nullif(sum(leads), 0), 2) AS cpl,
         round((sum(spend) + sum(handling_cost)) / nullif(sum(paid_students), 0), 2) AS cac,
         round(sum(net_revenue) / nullif(sum(spend), 0), 3) AS roas
    FROM leadmgmt.channel_roi
   WHERE org_id = :org AND period = 'month' AND breakdown = 'channel'
   GROUP BY channel
), roi_json AS (
  SELECT json_build_object(
           'channels', json_agg(channel ORDER BY spend DESC, channel),
           'spend', json_agg(spend ORDER BY spend DESC, channel),
           'cpl', json_agg(cpl ORDER BY spend DESC, channel),
           'cac', json_agg(cac ORDER BY spend DESC, channel),
           'roas', json_agg(roas ORDER BY spend DESC, channel),
           'reading', format('%s brings the most leads (%s), %s has the highest CAC (%s) and %s the best ROAS (%s).',
                             (array_agg(channel ORDER BY leads DESC, channel))[1], max(leads),
                             (array_agg(channel ORDER BY cac DESC NULLS LAST, channel))[1], max(cac),
                             (array_agg(channel ORDER BY roas DESC NULLS LAST, channel))[1], max(roas))) AS j
    FROM roi
),
attribution_json AS (
  SELECT json_build_object(
           'channels', json_agg(channel ORDER BY channel),
           'models', json_build_array('first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based',
                                      'time_decay', 'markov', 'shapley'),
           'series', json_build_array(json_agg(round(first_touch::numeric, 2) ORDER BY channel), json_agg(round(last_touch::numeric, 2) ORDER BY channel),
                                      json_agg(round(last_non_direct::numeric, 2) ORDER BY channel), json_agg(round(linear::numeric, 2) ORDER BY channel),
                                      json_agg(round(position_based::numeric, 2) ORDER BY channel), json_agg(round(time_decay::numeric, 2) ORDER BY channel),
                                      json_agg(round(markov::numeric, 2) ORDER BY channel), json_agg(round(shapley::numeric, 2) ORDER BY channel)),
           'reading', format('Last touch credits %s with %s conversions, the Markov model %s: %s.',
                             (array_agg(channel ORDER BY last_touch DESC, channel))[1], round(max(last_touch)::numeric, 1),
                             round((array_agg(markov ORDER BY last_touch DESC, channel))[1]::numeric, 1),
                             CASE WHEN (array_agg(channel ORDER BY last_touch DESC, channel))[1] = (array_agg(channel ORDER BY markov DESC, channel))[1]
                                  THEN 'the models agree on the leading channel'
                                  ELSE format('the models disagree, Markov ranks %s first', (array_agg(channel ORDER BY markov DESC, channel))[1]) END)) AS j
    FROM leadmgmt.attribution_comparison WHERE org_id = :org
),
km AS (
  SELECT s.grade, c.t, c.survival, c.ci_low, c.ci_high
    FROM (SELECT grade, leadmgmt.km_fit(lifetime_days, churned) AS fit
            FROM leadmgmt.student_lifetime WHERE org_id = :org AND grade IS NOT NULL GROUP BY grade) s,
         leadmgmt.km_curve(s.fit) c
), km_json AS (
  SELECT json_build_object(
           'series', (SELECT json_agg(json_build_object('grade', g.grade,
                                        'points', (SELECT json_agg(json_build_array(k.t, round(k.survival::numeric, 4),
                                                                                    round(k.ci_low::numeric, 4), round(k.ci_high::numeric, 4)) ORDER BY k.t)
                                                     FROM km k WHERE k.grade = g.grade)) ORDER BY g.grade)
                        FROM (SELECT DISTINCT grade FROM km) g),
           'reading', (SELECT format('Grade %s students stay longest (median %s days), grade %s students leave soonest (%s days).',
                                     (array_agg(grade ORDER BY median_days DESC NULLS FIRST, grade))[1],
                                     coalesce((array_agg(median_days ORDER BY median_days DESC NULLS FIRST, grade))[1]::text, 'beyond the data'),
                                     (array_agg(grade ORDER BY median_days NULLS LAST, grade))[1],
                                     (array_agg(median_days ORDER BY median_days NULLS LAST, grade))[1])
                         FROM (SELECT grade, round((leadmgmt.km_median(leadmgmt.km_fit(lifetime_days, churned))).median) AS median_days
                                 FROM leadmgmt.student_lifetime WHERE org_id = :org AND grade IS NOT NULL GROUP BY grade) m)) AS j
),
cohort_json AS (
  SELECT json_build_object(
           'months', (SELECT json_agg(DISTINCT to_char(cohort_month, 'YYYY-MM')) FROM leadmgmt.cohort_retention
                       WHERE org_id = :org AND cohort_kind = 'first_time'),
           'since', (SELECT json_agg(DISTINCT months_since) FROM leadmgmt.cohort_retention
                      WHERE org_id = :org AND cohort_kind = 'first_time'),
           'cells', (SELECT json_agg(json_build_array(months_since, to_char(cohort_month, 'YYYY-MM'), round(100 * retention_on, 1))
                                     ORDER BY cohort_month, months_since)
                       FROM leadmgmt.cohort_retention WHERE org_id = :org AND cohort_kind = 'first_time'),
           'reading', (SELECT format('Of the students who started in %s, %s%% were still in class %s months later.',
                                     to_char(min(cohort_month), 'YYYY-MM'),
                                     round(100 * (array_agg(retention_on ORDER BY months_since DESC))[1], 1),
                                     max(months_since))
                         FROM leadmgmt.cohort_retention
                        WHERE org_id = :org AND cohort_kind = 'first_time'
                          AND cohort_month = (SELECT min(cohort_month) FROM leadmgmt.cohort_retention
                                               WHERE org_id = :org AND cohort_kind = 'first_time'))) AS j
),
routing AS (
  SELECT channel, round((sum(spend) + sum(handling_cost_tiered)) / nullif(sum(paid_students), 0), 2) AS tiered,
         round((sum(spend) + sum(handling_cost_flat)) / nullif(sum(paid_students), 0), 2) AS flat
    FROM leadmgmt.tier_routing_savings WHERE org_id = :org GROUP BY channel
), routing_json AS (
  SELECT json_build_object(
           'channels', (SELECT json_agg(channel ORDER BY channel) FROM routing),
           'tiered', (SELECT json_agg(tiered ORDER BY channel) FROM routing),
           'flat', (SELECT json_agg(flat ORDER BY channel) FROM routing),
           'reading', (SELECT format('Routing leads by tier cut the cost per paid student from %s to %s (%s%% less) against giving every lead to regular sales.',
                                     round((sum(spend) + sum(handling_cost_flat)) / nullif(sum(paid_students), 0), 2),
                                     round((sum(spend) + sum(handling_cost_tiered)) / nullif(sum(paid_students), 0), 2),
                                     round(100 * (1 - (sum(spend) + sum(handling_cost_tiered)) / nullif(sum(spend) + sum(handling_cost_flat), 0)), 1))
                         FROM leadmgmt.tier_routing_savings WHERE org_id = :org)) AS j
),
model AS (
  SELECT r.model_id, r.name, r.auc_test FROM leadmgmt.model_registry r
   WHERE r.org_id = :org AND r.active
), model_json AS (
  SELECT json_build_object(
           'model', (SELECT name FROM model),
           'deciles', (SELECT json_agg(l.decile ORDER BY l.decile) FROM leadmgmt.model_lift l, model m
                        WHERE l.org_id = :org AND l.model_id = m.model_id),
           'lift', (SELECT json_agg(round(l.lift::numeric, 2) ORDER BY l.decile) FROM leadmgmt.model_lift l, model m
                     WHERE l.org_id = :org AND l.model_id = m.model_id),
           -- the held-out calibration table the registry keeps for the model
           'calibration', (SELECT json_agg(json_build_array(round((b ->> 'mean_predicted')::numeric, 4),
                                                           round((b ->> 'observed_rate')::numeric, 4)) ORDER BY (b ->> 'bin')::int)
                             FROM leadmgmt.conversion_model cm, model m, jsonb_array_elements(cm.calibration_test) b
                            WHERE cm.org_id = :org AND cm.model_id = m.model_id),
           'reading', (SELECT format('The top tenth of leads by score converts %s times as often as the average lead (held-out AUC %s).',
                                     round(max(l.lift) FILTER (WHERE l.decile = 1)::numeric, 1), round(max(m.auc_test)::numeric, 3))
                         FROM leadmgmt.model_lift l, model m WHERE l.org_id = :org AND l.model_id = m.model_id)) AS j
)
SELECT json_build_object(
         'org', (SELECT name FROM leadmgmt.org WHERE org_id = :org),
         'as_of', (SELECT to_char(coalesce(report_as_of, now()), 'YYYY-MM-DD') FROM leadmgmt.org WHERE org_id = :org),
         'funnel', (SELECT j FROM funnel_json), 'roi', (SELECT j FROM roi_json),
         'attribution', (SELECT j FROM attribution_json), 'km', (SELECT j FROM km_json),
         'cohort', (SELECT j FROM cohort_json), 'routing', (SELECT j FROM routing_json),
         'model', (SELECT j FROM model_json));
