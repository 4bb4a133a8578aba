
CREATE VIEW @extschema@.conversion_credit WITH (security_invoker = true) AS
-- a view, not a function with the models as a parameter, since 0.12: Citus
-- cannot plan a parameterised SQL function.  A filter on model or
-- is_org_model reaches the credit pass (both are grouping columns there), so
-- a report that wants one model pays for one.  Since 0.15 the passes group
-- by the conversion's keys alone and the org's options are built once per
-- org (the same rows; attribution_comparison 1.9 s -> 0.85 s at scale 1).
WITH conv AS (
  -- each lead's first paid order
  SELECT DISTINCT ON (so.org_id, so.lead_id) so.org_id, so.lead_id, so.order_id, so.paid_at AS converted_at
    FROM @extschema@.sales_order so
   WHERE so.status = 'paid' AND NOT so.is_renewal
   ORDER BY so.org_id, so.lead_id, so.paid_at, so.order_id
), net AS (
  SELECT so.org_id, so.order_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), direct_keys AS (
  -- credit is computed per channel and campaign ("code|campaign id"); direct channels are keyed
  -- without their campaign, so last_non_direct needs just one key per direct channel
  SELECT ch.org_id, jsonb_agg(ch.code || '|') AS keys
    FROM @extschema@.channel ch WHERE ch.kind = 'direct' GROUP BY ch.org_id
), opts AS (
  -- each org's model and options, built once per org, not per conversion or touch
  SELECT o.org_id, o.attribution_model, o.ltv_horizon,
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM @extschema@.org o
    LEFT JOIN direct_keys dk ON dk.org_id = o.org_id
), cv AS (
  -- grouped by the conversion alone (small keys hash fast)
  SELECT c.org_id, c.order_id, max(c.lead_id) AS lead_id, max(c.converted_at) AS converted_at,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + p.ltv_horizon), 0) AS ltv_revenue
    FROM conv c
    JOIN opts p ON p.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.order_id
), credit AS (
  SELECT cv.org_id, cv.order_id, m.model, m.model = p.attribution_model AS is_org_model,
         max(cv.lead_id) AS lead_id, max(cv.converted_at) AS converted_at,
         max(cv.net_revenue) AS net_revenue, max(cv.ltv_revenue) AS ltv_revenue,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  p.options) AS credits
    FROM cv
    JOIN opts p ON p.org_id = cv.org_id
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('last_non_direct'), ('linear'), ('position_based'), ('time_decay')) m(model)
   GROUP BY cv.org_id, cv.order_id, m.model, p.attribution_model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches,
       c.is_org_model
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x;
COMMENT ON VIEW @extschema@.conversion_credit IS 'audit of attribution: one row per conversion (a lead''s first paid order) x model x channel and campaign of its journey, with their share of the conversion and of its revenue';
COMMENT ON COLUMN @extschema@.conversion_credit.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.conversion_credit.order_id IS 'the converting order';
COMMENT ON COLUMN @extschema@.conversion_credit.lead_id IS 'the lead who converted';
COMMENT ON COLUMN @extschema@.conversion_credit.converted_at IS 'when the order was paid';
COMMENT ON COLUMN @extschema@.conversion_credit.model IS 'first_touch, last_touch, last_non_direct, linear, position_based or time_decay';
COMMENT ON COLUMN @extschema@.conversion_credit.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.conversion_credit.campaign_id IS 'campaign of the touches credited; NULL for touches without one and for direct channels';
COMMENT ON COLUMN @extschema@.conversion_credit.credit IS 'the share of the channel and campaign in the conversion under the model (a journey''s shares add up to 1; 0 when touched but not credited)';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_revenue IS 'share of the order''s revenue net of refunds';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_ltv_revenue IS 'share of the student''s net revenue within org.ltv_horizon, renewals included';
COMMENT ON COLUMN @extschema@.conversion_credit.touches IS 'touches of the journey (all channels, before the lookback filter)';
COMMENT ON COLUMN @extschema@.conversion_credit.is_org_model IS 'true when model is the org''s attribution_model, the one channel_roi and channel_payback report';

CREATE VIEW @extschema@.attribution_comparison WITH (security_invoker = true) AS
WITH h AS (
  SELECT cc.org_id, cc.channel,
         sum(cc.credit) FILTER (WHERE cc.model = 'first_touch') AS first_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_touch') AS last_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_non_direct') AS last_non_direct,
         sum(cc.credit) FILTER (WHERE cc.model = 'linear') AS linear,
         sum(cc.credit) FILTER (WHERE cc.model = 'position_based') AS position_based,
         sum(cc.credit) FILTER (WHERE cc.model = 'time_decay') AS time_decay
    FROM @extschema@.conversion_credit cc GROUP BY cc.org_id, cc.channel
), journeys AS (
  -- every lead's path (channels in time order) and whether it converted, for the data-driven models
  -- (the converted leads joined, not an EXISTS per lead, since 0.15)
  SELECT tp.org_id, tp.lead_id,
         array_agg(ch.code ORDER BY tp.occurred_at, tp.touchpoint_id) AS path,
         p.lead_id IS NOT NULL AS converted
    FROM @extschema@.touchpoint tp
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
    LEFT JOIN (SELECT DISTINCT so.org_id, so.lead_id FROM @extschema@.sales_order so
                WHERE so.status = 'paid' AND NOT so.is_renewal) p
           ON p.org_id = tp.org_id AND p.lead_id = tp.lead_id
   WHERE tp.lead_id IS NOT NULL
   GROUP BY tp.org_id, tp.lead_id, p.lead_id
), dd AS (
  SELECT j.org_id,
         @extschema@.markov_attribution(j.path, j.converted::int, 1 - j.converted::int, 0) AS markov,
         @extschema@.shapley_attribution(j.path, j.converted::int, 0) AS shapley
    FROM journeys j GROUP BY j.org_id
)
SELECT h.org_id, h.channel,
       round(h.first_touch::numeric, 2) AS first_touch, round(h.last_touch::numeric, 2) AS last_touch,
       round(h.last_non_direct::numeric, 2) AS last_non_direct, round(h.linear::numeric, 2) AS linear,
       round(h.position_based::numeric, 2) AS position_based, round(h.time_decay::numeric, 2) AS time_decay,
       round(m.conversions::numeric, 2) AS markov, round(m.removal_effect::numeric, 4) AS markov_removal_effect,
       round(s.conversions::numeric, 2) AS shapley
  FROM h
  LEFT JOIN dd ON dd.org_id = h.org_id
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.markov) x WHERE x.channel = h.channel) m ON true
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.shapley) x WHERE x.channel = h.channel) s ON true;
COMMENT ON VIEW @extschema@.attribution_comparison IS 'conversions credited to each channel under every model side by side: the six heuristic models, first-order Markov (with removal effect) and Shapley';
COMMENT ON COLUMN @extschema@.attribution_comparison.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.attribution_comparison.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.attribution_comparison.first_touch IS 'conversions credited by first touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_touch IS 'conversions credited by last touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_non_direct IS 'conversions credited by last non-direct touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.linear IS 'conversions credited linearly (per touch)';
COMMENT ON COLUMN @extschema@.attribution_comparison.position_based IS 'conversions credited 40/20/40 by position';
COMMENT ON COLUMN @extschema@.attribution_comparison.time_decay IS 'conversions credited by time decay (7-day half-life)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov IS 'conversions credited by first-order Markov removal effects (journeys of all leads; no lookback)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov_removal_effect IS 'share of conversions lost without the channel';
COMMENT ON COLUMN @extschema@.attribution_comparison.shapley IS 'conversions credited by the Shapley value (journeys of all leads; no lookback)';

CREATE VIEW @extschema@.channel_roi WITH (security_invoker = true) AS
-- since 0.12 the day's figures of the sources meet in a UNION ALL and one
-- GROUP BY, not in FULL JOINs (Citus cannot join on the merged org_id of a
-- FULL JOIN), and credit comes from the conversion_credit view
WITH o AS NOT MATERIALIZED (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), facts AS (
  -- campaign 0: spend, leads and touches without a campaign
  SELECT s.org_id, s.channel_id, coalesce(s.campaign_id, 0) AS campaign_id, s.spend_date AS day,
         s.spend, s.impressions, s.clicks, 0::bigint AS leads, 0::bigint AS valid_leads, 0::numeric AS handling_cost,
         0::bigint AS trials, 0::float8 AS paid_students, 0::float8 AS revenue, 0::float8 AS ltv_revenue
    FROM @extschema@.ad_spend s
  UNION ALL
  SELECT l.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (l.created_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 1, l.phone_valid::int, 0, 0, 0, 0, 0
    FROM @extschema@.lead l JOIN o ON o.org_id = l.org_id
  UNION ALL
  -- follow-up cost goes to the lead's first channel and campaign; like spend it is not split by attribution
  SELECT f.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (f.occurred_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, f.cost, 0, 0, 0, 0
    FROM @extschema@.follow_up f
    JOIN @extschema@.lead l ON l.org_id = f.org_id AND l.lead_id = f.lead_id
    JOIN o ON o.org_id = f.org_id
  UNION ALL
  SELECT t.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (t.booked_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, 0, 1, 0, 0, 0
    FROM @extschema@.trial_lesson t
    JOIN @extschema@.lead l ON l.org_id = t.org_id AND l.lead_id = t.lead_id
    JOIN o ON o.org_id = t.org_id
  UNION ALL
  SELECT cc.org_id, ch.channel_id, coalesce(cc.campaign_id, 0), (cc.converted_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, 0, 0, cc.credit, cc.credited_revenue, cc.credited_ltv_revenue
    FROM @extschema@.conversion_credit cc
    JOIN o ON o.org_id = cc.org_id
    JOIN @extschema@.channel ch ON ch.org_id = cc.org_id AND ch.code = cc.channel
   WHERE cc.is_org_model
), daily AS (
  SELECT f.org_id, f.channel_id, f.campaign_id, f.day,
         sum(f.spend) AS spend, sum(f.impressions) AS impressions, sum(f.clicks) AS clicks,
         sum(f.leads)::bigint AS leads, sum(f.valid_leads)::bigint AS valid_leads, sum(f.handling_cost) AS handling_cost,
         sum(f.trials)::bigint AS trials, sum(f.paid_students) AS paid_students,
         sum(f.revenue) AS revenue, sum(f.ltv_revenue) AS ltv_revenue
    FROM facts f GROUP BY f.org_id, f.channel_id, f.campaign_id, f.day
), periods AS (
  SELECT g.grain, d.org_id, d.channel_id, d.campaign_id,
         CASE g.grain WHEN 'day' THEN d.day ELSE date_trunc(g.grain, d.day)::date END AS period_start,
         d.spend, d.impressions, d.clicks, d.leads, d.valid_leads, d.handling_cost, d.trials, d.paid_students, d.revenue, d.ltv_revenue
    FROM daily d CROSS JOIN (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT p.org_id, p.grain AS period, p.period_start, ch.code AS channel, ch.kind AS channel_kind,
       b.breakdown,
       nullif(CASE b.breakdown WHEN 'campaign' THEN p.campaign_id END, 0) AS campaign_id,
       CASE b.breakdown WHEN 'campaign' THEN coalesce(max(cp.code), '(none)') END AS campaign,
       o.attribution_model,
       sum(p.spend) AS spend, sum(p.impressions) AS impressions, sum(p.clicks) AS clicks,
       sum(p.leads) AS leads, sum(p.valid_leads) AS valid_leads,
       round(sum(p.spend) / nullif(sum(p.leads), 0), 2) AS cpl,
       sum(p.trials) AS trials,
       round(sum(p.paid_students)::numeric, 2) AS paid_students,
       round(sum(p.spend) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cpa,
       round(sum(p.revenue)::numeric, 2) AS net_revenue,
       round(sum(p.revenue)::numeric / nullif(sum(p.spend), 0), 3) AS roas,
       round((sum(p.revenue)::numeric - sum(p.spend)) / nullif(sum(p.spend), 0), 3) AS roi,
       sum(p.handling_cost) AS handling_cost,
       round((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cac,
       round(sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric, 2) AS ltv,
       round((sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric)
             / nullif((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 0), 3) AS ltv_to_cac
  FROM periods p
  JOIN @extschema@.channel ch ON ch.org_id = p.org_id AND ch.channel_id = p.channel_id
  JOIN o ON o.org_id = p.org_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = p.org_id AND cp.campaign_id = p.campaign_id
 -- each row counts for its channel and for its campaign: a join to the list
 -- of breakdowns (no GROUPING SETS, which Citus cannot plan)
 CROSS JOIN (VALUES ('channel'::text), ('campaign')) AS b(breakdown)
 GROUP BY p.org_id, p.grain, p.period_start, ch.code, ch.kind, o.attribution_model, b.breakdown,
          CASE b.breakdown WHEN 'campaign' THEN p.campaign_id END;
COMMENT ON VIEW @extschema@.channel_roi IS 'channel and campaign ROI by day, week and month: spend, leads, CPL, trials, paid students and net revenue credited by the org''s attribution model, CPA, ROAS, ROI, fully loaded CAC and LTV/CAC (definitions in docs/metrics.md)';
COMMENT ON COLUMN @extschema@.channel_roi.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_roi.period IS 'day, week or month';
COMMENT ON COLUMN @extschema@.channel_roi.period_start IS 'first day of the period, in the org''s time zone';
COMMENT ON COLUMN @extschema@.channel_roi.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_roi.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_roi.breakdown IS 'channel (all its campaigns) or campaign';
COMMENT ON COLUMN @extschema@.channel_roi.campaign_id IS 'campaign, for breakdown campaign; NULL for no campaign or a channel row';
COMMENT ON COLUMN @extschema@.channel_roi.campaign IS 'campaign code, (none) for spend, leads and touches without a campaign; NULL on channel rows';
COMMENT ON COLUMN @extschema@.channel_roi.attribution_model IS 'the org''s model that credited paid students and revenue';
COMMENT ON COLUMN @extschema@.channel_roi.spend IS 'ad spend (never split by attribution)';
COMMENT ON COLUMN @extschema@.channel_roi.impressions IS 'impressions';
COMMENT ON COLUMN @extschema@.channel_roi.clicks IS 'clicks';
COMMENT ON COLUMN @extschema@.channel_roi.leads IS 'leads whose first channel it is, created in the period';
COMMENT ON COLUMN @extschema@.channel_roi.valid_leads IS 'of which with a valid phone (duplicates are never separate leads)';
COMMENT ON COLUMN @extschema@.channel_roi.cpl IS 'cost per lead: spend / leads';
COMMENT ON COLUMN @extschema@.channel_roi.trials IS 'trial lessons booked by leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.paid_students IS 'new paying students credited to the channel, converted in the period';
COMMENT ON COLUMN @extschema@.channel_roi.cpa IS 'cost per acquisition: spend / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.net_revenue IS 'credited revenue of the converting orders, net of refunds';
COMMENT ON COLUMN @extschema@.channel_roi.roas IS 'net revenue / spend';
COMMENT ON COLUMN @extschema@.channel_roi.roi IS '(net revenue - spend) / spend';
COMMENT ON COLUMN @extschema@.channel_roi.handling_cost IS 'cost of follow-ups in the period of leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.cac IS 'fully loaded customer acquisition cost: (spend + handling cost) / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.ltv IS 'credited net revenue per paid student within org.ltv_horizon of the first payment, renewals included';
COMMENT ON COLUMN @extschema@.channel_roi.ltv_to_cac IS 'LTV / CAC';

CREATE VIEW @extschema@.channel_payback WITH (security_invoker = true) AS
WITH o AS (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), cohort AS (
  -- credited new students by channel and month of conversion, under the org's model
  SELECT cc.org_id, cc.channel, date_trunc('month', cc.converted_at AT TIME ZONE o.timezone)::date AS cohort_month,
         cc.lead_id, cc.converted_at, cc.credit
    FROM @extschema@.conversion_credit cc
    JOIN o ON o.org_id = cc.org_id
   WHERE cc.is_org_model AND cc.credit > 0
), net AS (
  SELECT so.org_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), daily AS (
  -- the cohort's credited net revenue (renewals included) by days since each student's conversion
  SELECT c.org_id, c.channel, c.cohort_month,
         floor(extract(epoch FROM n.paid_at - c.converted_at) / 86400)::int AS day, sum(c.credit * n.net_amount) AS amount
    FROM cohort c
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id AND n.paid_at >= c.converted_at
   GROUP BY 1, 2, 3, 4
), cum AS (
  SELECT d.*, sum(d.amount) OVER (PARTITION BY d.org_id, d.channel, d.cohort_month ORDER BY d.day) AS cumulative
    FROM daily d
), cost AS (
  SELECT r.org_id, r.channel, r.period_start AS cohort_month, r.spend + r.handling_cost AS acquisition_cost, r.paid_students
    FROM @extschema@.channel_roi r WHERE r.period = 'month' AND r.breakdown = 'channel'
)
-- a join and GROUP BY, not correlated subqueries, which Citus cannot plan (0.12)
SELECT k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students,
       round(max(c.cumulative)::numeric, 2) AS net_revenue_to_date,
       min(c.day) FILTER (WHERE c.cumulative >= k.acquisition_cost) AS payback_days
  FROM cost k
  LEFT JOIN cum c ON c.org_id = k.org_id AND c.channel = k.channel AND c.cohort_month = k.cohort_month
 WHERE k.paid_students > 0
 GROUP BY k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students;
COMMENT ON VIEW @extschema@.channel_payback IS 'payback of each channel''s monthly cohort of new students: days until their credited cumulative net revenue (renewals included) covers the month''s spend and handling cost';
COMMENT ON COLUMN @extschema@.channel_payback.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_payback.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_payback.cohort_month IS 'month the students converted (and the spend was made)';
COMMENT ON COLUMN @extschema@.channel_payback.acquisition_cost IS 'spend plus handling cost of the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.paid_students IS 'new paying students credited to the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.net_revenue_to_date IS 'credited net revenue of those students so far, renewals included';
COMMENT ON COLUMN @extschema@.channel_payback.payback_days IS 'days after conversion at which the cohort''s cumulative net revenue first covers the acquisition cost; NULL while it has not (0 when the first payments already do)';
