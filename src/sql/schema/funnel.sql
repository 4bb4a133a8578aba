
-- ---------------------------------------------------------------------------
-- Funnel reports for BI (docs/bi.md): since 0.2.  Stages: touch, lead,
-- sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed,
-- within the org's funnel_window (default 14 days) from the first stage.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.lead_funnel WITH (security_invoker = true) AS
-- each lead's stages from its own touches, events and renewals, read in a
-- LATERAL subquery through the (org_id, lead_id) indexes (since 0.15): a
-- report on a week or a month of leads reads those leads' rows only, where
-- the join to every lead's stages read the whole org (funnel_report's
-- weekly funnel of a month: 1.7-2.3 s -> 0.85 s at scale 1; the whole
-- org's funnel costs about a third more)
SELECT l.org_id,
       l.lead_id,
       (l.created_at AT TIME ZONE o.timezone)::date AS cohort_date,
       fc.code                   AS channel,
       cp.code                   AS campaign,
       l.tier,
       l.city,
       coalesce((f.d).level, 0)  AS steps_reached,
       (f.d).step_times[1]       AS touched_at,
       (f.d).step_times[2]       AS became_lead_at,
       (f.d).step_times[3]       AS sms_verified_at,
       (f.d).step_times[4]       AS wechat_followed_at,
       (f.d).step_times[5]       AS trial_booked_at,
       (f.d).step_times[6]       AS trial_attended_at,
       (f.d).step_times[7]       AS paid_at,
       (f.d).step_times[8]       AS renewed_at
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  CROSS JOIN LATERAL (
    SELECT @extschema@.funnel_detail(o.funnel_window, ev.ts, ev.step = 1, ev.step = 2, ev.step = 3, ev.step = 4,
                                     ev.step = 5, ev.step = 6, ev.step = 7, ev.step = 8) AS d
      FROM (SELECT t.occurred_at AS ts, 1 AS step
              FROM @extschema@.touchpoint t WHERE t.org_id = l.org_id AND t.lead_id = l.lead_id
            UNION ALL
            SELECT e.occurred_at,
                   CASE e.event_type WHEN 'form_submitted' THEN 2 WHEN 'sms_verified' THEN 3 WHEN 'wechat_followed' THEN 4
                        WHEN 'trial_booked' THEN 5 WHEN 'trial_attended' THEN 6 WHEN 'paid' THEN 7 ELSE 8 END
              FROM @extschema@.lead_event e
             WHERE e.org_id = l.org_id AND e.lead_id = l.lead_id
               AND e.event_type IN ('form_submitted', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed')
            UNION ALL
            SELECT r.renewed_at, 8
              FROM @extschema@.student s
              JOIN @extschema@.enrollment en ON en.org_id = s.org_id AND en.student_id = s.student_id
              JOIN @extschema@.renewal r ON r.org_id = en.org_id AND r.from_enrollment_id = en.enrollment_id
             WHERE s.org_id = l.org_id AND s.lead_id = l.lead_id) ev) f;

COMMENT ON VIEW @extschema@.lead_funnel IS 'one row per lead: how far it got through touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed within the org funnel window, and when it reached each stage';
COMMENT ON COLUMN @extschema@.lead_funnel.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_funnel.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_funnel.cohort_date IS 'day the lead was created, in the org time zone';
COMMENT ON COLUMN @extschema@.lead_funnel.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.lead_funnel.campaign IS 'campaign of the first submission, if any';
COMMENT ON COLUMN @extschema@.lead_funnel.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.lead_funnel.city IS 'city';
COMMENT ON COLUMN @extschema@.lead_funnel.steps_reached IS 'stages reached in order within the window, 0 to 8';
COMMENT ON COLUMN @extschema@.lead_funnel.touched_at IS 'stage 1: the touch that started the furthest chain';
COMMENT ON COLUMN @extschema@.lead_funnel.became_lead_at IS 'stage 2: form submitted';
COMMENT ON COLUMN @extschema@.lead_funnel.sms_verified_at IS 'stage 3: SMS verified';
COMMENT ON COLUMN @extschema@.lead_funnel.wechat_followed_at IS 'stage 4: followed the WeChat account';
COMMENT ON COLUMN @extschema@.lead_funnel.trial_booked_at IS 'stage 5: trial lesson booked';
COMMENT ON COLUMN @extschema@.lead_funnel.trial_attended_at IS 'stage 6: trial lesson attended';
COMMENT ON COLUMN @extschema@.lead_funnel.paid_at IS 'stage 7: paid';
COMMENT ON COLUMN @extschema@.lead_funnel.renewed_at IS 'stage 8: renewed';

CREATE VIEW @extschema@.funnel_steps WITH (security_invoker = true) AS
SELECT f.org_id,
       f.lead_id,
       f.cohort_date,
       date_trunc('week', f.cohort_date)::date  AS cohort_week,
       date_trunc('month', f.cohort_date)::date AS cohort_month,
       f.channel,
       f.campaign,
       f.tier,
       f.city,
       s.step_number,
       s.step_name,
       s.reached_at,
       round((extract(epoch FROM s.reached_at - s.previous_at) / 3600)::numeric, 2) AS hours_from_previous
  FROM @extschema@.lead_funnel f
  CROSS JOIN LATERAL (
    SELECT k AS step_number,
           (ARRAY['touch', 'lead', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed'])[k] AS step_name,
           (ARRAY[f.touched_at, f.became_lead_at, f.sms_verified_at, f.wechat_followed_at, f.trial_booked_at,
                  f.trial_attended_at, f.paid_at, f.renewed_at])[k] AS reached_at,
           (ARRAY[NULL, f.touched_at, f.became_lead_at, f.sms_verified_at, f.wechat_followed_at, f.trial_booked_at,
                  f.trial_attended_at, f.paid_at])[k] AS previous_at
      FROM generate_series(1, f.steps_reached) AS k) s;

COMMENT ON VIEW @extschema@.funnel_steps IS 'one row per lead and funnel stage it reached, with the lead''s cohort and breakdowns, for BI tools to slice';
COMMENT ON COLUMN @extschema@.funnel_steps.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.funnel_steps.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_date IS 'day the lead was created, in the org time zone';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_week IS 'Monday of the week the lead was created';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_month IS 'first day of the month the lead was created';
COMMENT ON COLUMN @extschema@.funnel_steps.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.funnel_steps.campaign IS 'campaign of the first submission, if any';
COMMENT ON COLUMN @extschema@.funnel_steps.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.funnel_steps.city IS 'city';
COMMENT ON COLUMN @extschema@.funnel_steps.step_number IS 'stage number, 1 (touch) to 8 (renewed)';
COMMENT ON COLUMN @extschema@.funnel_steps.step_name IS 'touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid or renewed';
COMMENT ON COLUMN @extschema@.funnel_steps.reached_at IS 'when the lead reached the stage';
COMMENT ON COLUMN @extschema@.funnel_steps.hours_from_previous IS 'hours from the previous stage; NULL for the first';

CREATE VIEW @extschema@.funnel_report WITH (security_invoker = true) AS
-- each stage a lead reached counts once per period grain and once per
-- breakdown: a join to the two lists, so that each is written once.  A
-- filter on period_grain and breakdown applies before the grouping.
WITH g AS (
  SELECT s.org_id, p.period_grain,
         CASE p.period_grain WHEN 'day' THEN s.cohort_date WHEN 'week' THEN s.cohort_week ELSE s.cohort_month END
           AS period_start,
         b.breakdown,
         CASE b.breakdown WHEN 'all' THEN 'all' WHEN 'channel' THEN s.channel
                          WHEN 'campaign' THEN coalesce(s.campaign, '(none)')
                          WHEN 'tier' THEN coalesce(s.tier::text, '(none)')
                          ELSE coalesce(s.city, '(none)') END AS breakdown_value,
         s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM @extschema@.funnel_steps s
   CROSS JOIN (VALUES ('day'::text), ('week'), ('month')) AS p(period_grain)
   CROSS JOIN (VALUES ('all'::text), ('channel'), ('campaign'), ('tier'), ('city')) AS b(breakdown)
   GROUP BY 1, 2, 3, 4, 5, 6, 7
)
SELECT g.org_id,
       g.period_grain,
       g.period_start,
       g.breakdown,
       g.breakdown_value,
       g.step_number,
       g.step_name,
       g.leads_reached,
       round(g.leads_reached::numeric / lag(g.leads_reached) OVER w, 4)         AS conversion_from_previous,
       round(g.leads_reached::numeric / first_value(g.leads_reached) OVER w, 4) AS conversion_from_first,
       round(g.median_hours::numeric, 2) AS median_hours_from_previous,
       round(g.p90_hours::numeric, 2)    AS p90_hours_from_previous
  FROM g
WINDOW w AS (PARTITION BY g.org_id, g.period_grain, g.period_start, g.breakdown, g.breakdown_value ORDER BY g.step_number);

COMMENT ON VIEW @extschema@.funnel_report IS 'funnel per org, period (day, week or month of the lead''s creation) and breakdown (all, channel, campaign, tier or city): leads that reached at least each stage, conversion and time between stages; filter on period_grain and breakdown';
COMMENT ON COLUMN @extschema@.funnel_report.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.funnel_report.period_grain IS 'day, week or month';
COMMENT ON COLUMN @extschema@.funnel_report.period_start IS 'first day of the period the leads were created in';
COMMENT ON COLUMN @extschema@.funnel_report.breakdown IS 'all, channel, campaign, tier or city';
COMMENT ON COLUMN @extschema@.funnel_report.breakdown_value IS 'the channel, campaign, tier or city; all for no breakdown; (none) where the lead has none';
COMMENT ON COLUMN @extschema@.funnel_report.step_number IS 'stage number, 1 (touch) to 8 (renewed)';
COMMENT ON COLUMN @extschema@.funnel_report.step_name IS 'touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid or renewed';
COMMENT ON COLUMN @extschema@.funnel_report.leads_reached IS 'leads that reached at least this stage within the window';
COMMENT ON COLUMN @extschema@.funnel_report.conversion_from_previous IS 'leads_reached divided by that of the previous stage';
COMMENT ON COLUMN @extschema@.funnel_report.conversion_from_first IS 'leads_reached divided by that of the first stage';
COMMENT ON COLUMN @extschema@.funnel_report.median_hours_from_previous IS 'median hours from the previous stage to this one';
COMMENT ON COLUMN @extschema@.funnel_report.p90_hours_from_previous IS '90th percentile of hours from the previous stage to this one';
