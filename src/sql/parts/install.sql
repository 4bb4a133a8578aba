
-- ---------------------------------------------------------------------------
-- Code in the extension, data outside it (since 0.11; docs/dba/install.md)
--
-- CREATE EXTENSION leadmgmt installs code only: types, functions and
-- aggregates.  leadmgmt.install() creates the tables, their constraints,
-- indexes, triggers and policies, and the views, as ordinary objects of the
-- schema, from the files of src/sql/schema: pg_dump dumps them like any
-- table (a restore runs CREATE EXTENSION, then the dumped tables), Citus can
-- distribute them, and a DBA may alter them.
--
-- The schema is versioned.  schema_version records every step applied;
-- install() applies only what is missing, so running it again is safe.  A
-- fresh database gets the whole schema at once ('full'), an older one the
-- steps after its version; both end with the same catalog (make test checks
-- it).  The code checks the schema it meets (require_schema) and names the
-- call to run.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.schema_steps() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{0.10,0.11,0.12,0.14,0.15,0.16,0.17}'::text[] $$;
COMMENT ON FUNCTION @extschema@.schema_steps() IS 'the versions of leadmgmt''s schema, oldest first: 0.10 is the schema of the versions whose tables were members of the extension (0.1-0.10), then every version that changed it; the last is the one this code needs';

-- The DDL of each step.  'full' is src/sql/schema/*.sql, the whole schema of
-- the newest step; every other step turns the schema of the step before into
-- its own.  A landed step is frozen like the rest of a landed script.
CREATE FUNCTION @extschema@.schema_ddl(step text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $schema_ddl$
SELECT CASE step
WHEN 'full' THEN $full$
-- @schema@ (the Makefile puts src/sql/schema/*.sql here)
$full$
WHEN 'schema_version' THEN $schema_version$
CREATE TABLE @extschema@.schema_version (
  version     text NOT NULL,
  how         text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schema_version_pkey PRIMARY KEY (version),
  CONSTRAINT schema_version_how_check CHECK (how IN ('full', 'step', 'members'))
);
COMMENT ON TABLE @extschema@.schema_version IS 'the steps of leadmgmt''s schema applied in this database, written by install(); the code checks it (require_schema)';
COMMENT ON COLUMN @extschema@.schema_version.version IS 'a schema version (an element of schema_steps())';
COMMENT ON COLUMN @extschema@.schema_version.how IS 'full: the whole schema of this version at once; step: from the version before; members: the tables were members of the extension until ALTER EXTENSION UPDATE made them ordinary';
COMMENT ON COLUMN @extschema@.schema_version.applied_at IS 'when';
GRANT SELECT ON @extschema@.schema_version TO PUBLIC;
$schema_version$
WHEN '0.11' THEN $step$
COMMENT ON TABLE @extschema@.rep_load IS 'engine state, derived: each rep''s open leads and today''s assignments and claims, kept under the org''s assignment lock and rebuilt from lead and assignment when missing';
COMMENT ON TABLE @extschema@.rep_load_change IS 'engine state, derived: changes of open leads per rep written by the lead trigger without waiting for any lock, folded into rep_load by the next engine call';
COMMENT ON TABLE @extschema@.assign_rotation IS 'engine state: the smooth weighted round-robin of each org';
COMMENT ON TABLE @extschema@.assign_pick IS 'engine state: the pick journal, one row per assign_lead or assign_pending call since the last fold; the engine reads it with a dirty snapshot, so picks in flight count and rolled-back ones vanish; rep_load_sync folds settled rows into assign_rotation and rep_load (no foreign key: its rows live for seconds, and a key check would lock the org row in every call)';
-- rep_workload reads the org's clock through a join, which Citus can push down
CREATE OR REPLACE VIEW @extschema@.rep_workload WITH (security_invoker = true) AS
SELECT r.org_id, r.team_id, tm.name AS team_name, r.rep_id, r.name AS rep_name, r.role, r.active,
       NOT EXISTS (SELECT 1 FROM @extschema@.rep_shift s WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id)
       OR EXISTS (SELECT 1 FROM @extschema@.rep_shift s
                   WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id
                     AND s.weekday = extract(isodow FROM n.local)
                     AND n.local::time >= s.starts_at AND n.local::time < s.ends_at) AS on_shift_now,
       ol.open_leads, r.holding_cap, greatest(r.holding_cap - ol.open_leads, 0) AS holding_room,
       td.assigned_today, r.daily_cap, td.claimed_today, r.daily_claim_cap, td.last_assigned_at
  FROM @extschema@.sales_rep r
  -- the org's clock as a join, not a LATERAL without FROM (Citus cannot
  -- push one down that calls now(); since 0.11)
  JOIN (SELECT o.org_id, o.timezone, coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone AS local
          FROM @extschema@.org o) n ON n.org_id = r.org_id
  LEFT JOIN @extschema@.team tm ON tm.org_id = r.org_id AND tm.team_id = r.team_id
 CROSS JOIN LATERAL (SELECT count(*) AS open_leads FROM @extschema@.lead l
                      WHERE l.org_id = r.org_id AND l.owner_rep_id = r.rep_id AND l.status NOT IN ('won', 'lost')) ol
 CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy')
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS assigned_today,
                            count(*) FILTER (WHERE a.reason = 'claim'
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS claimed_today,
                            max(a.assigned_at) AS last_assigned_at
                       FROM @extschema@.assignment a WHERE a.org_id = r.org_id AND a.rep_id = r.rep_id) td;
$step$
WHEN '0.12' THEN $step$
-- 0.12 (docs/changelog.md), safe to run on a schema that has it already:
-- 1. the phone apart from the lead (lead_contact): reporting and sales roles
--    then need no column privileges, which Citus refuses.  lead's
--    phone_masked and phone_valid were generated from its phone: they become
--    plain columns, added anew at the end of the table (Citus cannot drop a
--    column's generation expression), so the four views over them are made
--    again below.
CREATE TABLE IF NOT EXISTS @extschema@.lead_contact (
  org_id      bigint NOT NULL,
  lead_id     bigint NOT NULL,
  phone       text,
  phone_raw   text,
  CONSTRAINT lead_contact_pkey PRIMARY KEY (org_id, lead_id),
  CONSTRAINT lead_contact_phone_key UNIQUE (org_id, phone),
  CONSTRAINT lead_contact_phone_check CHECK (phone ~ '^\+861[3-9][0-9]{9}$'),
  CONSTRAINT lead_contact_phone_raw_check CHECK (length(phone_raw) <= 64)
);
DO $contact$
BEGIN
  -- on a distributed cluster the new table joins the leads' colocation group
  -- before its key refers to them (distribute() leaves it alone then); the
  -- views are dropped and made again in this transaction, which Citus does
  -- over one connection per node only
  IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '@extschema@.lead'::regclass)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '@extschema@.lead_contact'::regclass) THEN
      PERFORM create_distributed_table('@extschema@.lead_contact', 'org_id', colocate_with => '@extschema@.lead');
    END IF;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_contact_lead_fkey'
                    AND conrelid = '@extschema@.lead_contact'::regclass) THEN
    ALTER TABLE @extschema@.lead_contact ADD CONSTRAINT lead_contact_lead_fkey
      FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id) ON DELETE CASCADE;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = '@extschema@.lead'::regclass
                AND attname = 'phone' AND NOT attisdropped) THEN
    INSERT INTO @extschema@.lead_contact (org_id, lead_id, phone, phone_raw)
    SELECT l.org_id, l.lead_id, l.phone, l.phone_raw FROM @extschema@.lead l
     WHERE l.phone IS NOT NULL OR l.phone_raw IS NOT NULL;
    DROP VIEW @extschema@.channel_payback, @extschema@.channel_roi, @extschema@.channel_daily, @extschema@.lead_overview;
    ALTER TABLE @extschema@.lead ADD COLUMN phone_masked_new text, ADD COLUMN phone_valid_new boolean NOT NULL DEFAULT false;
    UPDATE @extschema@.lead SET phone_masked_new = phone_masked, phone_valid_new = phone_valid;
    ALTER TABLE @extschema@.lead DROP COLUMN phone_masked, DROP COLUMN phone_valid, DROP COLUMN phone_raw, DROP COLUMN phone;
    ALTER TABLE @extschema@.lead RENAME COLUMN phone_masked_new TO phone_masked;
    ALTER TABLE @extschema@.lead RENAME COLUMN phone_valid_new TO phone_valid;
  END IF;
END
$contact$;
COMMENT ON COLUMN @extschema@.lead.phone_masked IS 'phone for display to roles that may not see it, such as 138****5678 (the number is in lead_contact)';
COMMENT ON COLUMN @extschema@.lead.phone_valid IS 'true when the phone is a valid mobile number; invalid leads are kept but not de-duplicated';
COMMENT ON TABLE @extschema@.lead_contact IS 'the phone of a lead, for the roles that may see it (app and admin; a sales rep reads its own leads'' with lead_phone()); one lead per valid phone per org (撞单 protection)';
COMMENT ON COLUMN @extschema@.lead_contact.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_contact.lead_id IS 'the lead';
COMMENT ON COLUMN @extschema@.lead_contact.phone IS 'E.164 mobile number, unique per org; NULL when the submitted number is not valid';
COMMENT ON COLUMN @extschema@.lead_contact.phone_raw IS 'phone number as submitted';
-- 2. views that Citus can plan: no parameterised SQL function
--    (conversion_credit, recycle_schedule), no FULL JOIN chain (channel_roi),
--    no correlated subquery in a select list (channel_payback, pool_health),
--    no recursive CTE (student_lifetime: renewal_chains()); and the four
--    views over lead's phone columns, with their comments
CREATE OR REPLACE VIEW @extschema@.conversion_credit WITH (security_invoker = true) AS
-- a view, not a function with the models as a parameter, since 0.12: Citus
-- cannot plan a parameterised SQL function.  A filter on model or
-- is_org_model reaches the credit pass (both are grouping columns there), so
-- a report that wants one model pays for one.
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
), cv AS (
  SELECT c.org_id, c.lead_id, c.order_id, c.converted_at, o.attribution_model,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + o.ltv_horizon), 0) AS ltv_revenue,
         -- options built once per conversion, not per touch
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM conv c
    JOIN @extschema@.org o ON o.org_id = c.org_id
    LEFT JOIN direct_keys dk ON dk.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.lead_id, c.order_id, c.converted_at, o.attribution_model, o.ltv_horizon, o.attribution_lookback_days, dk.keys
), credit AS (
  SELECT cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model,
         m.model = cv.attribution_model AS is_org_model,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  cv.options) AS credits
    FROM cv
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('last_non_direct'), ('linear'), ('position_based'), ('time_decay')) m(model)
   GROUP BY cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model, cv.attribution_model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches,
       c.is_org_model
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x;
COMMENT ON COLUMN @extschema@.conversion_credit.is_org_model IS 'true when model is the org''s attribution_model, the one channel_roi and channel_payback report';
CREATE OR REPLACE VIEW @extschema@.lead_overview WITH (security_invoker = true) AS
SELECT l.org_id,
       l.lead_id,
       l.phone_masked,
       l.phone_valid        AS phone_is_valid,
       l.name               AS contact_name,
       l.child_age,
       l.grade,
       l.subject,
       l.city,
       l.city_tier,
       fc.code              AS first_channel,
       lc.code              AS latest_channel,
       l.created_at,
       l.last_touch_at,
       l.status,
       l.pool,
       l.owner_rep_id,
       r.name               AS owner_name,
       l.tier,
       l.score
  FROM @extschema@.lead l
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  JOIN @extschema@.channel lc ON lc.org_id = l.org_id AND lc.channel_id = l.latest_channel_id
  LEFT JOIN @extschema@.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id;

COMMENT ON VIEW @extschema@.lead_overview IS 'one row per lead with readable channel and owner names; phones masked';
COMMENT ON COLUMN @extschema@.lead_overview.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_overview.lead_id IS 'lead id';
COMMENT ON COLUMN @extschema@.lead_overview.phone_masked IS 'phone masked as 138****5678';
COMMENT ON COLUMN @extschema@.lead_overview.phone_is_valid IS 'true when the phone is a valid mobile number';
COMMENT ON COLUMN @extschema@.lead_overview.contact_name IS 'name of the parent or student';
COMMENT ON COLUMN @extschema@.lead_overview.child_age IS 'age of the child in years';
COMMENT ON COLUMN @extschema@.lead_overview.grade IS 'school grade, 0 = preschool';
COMMENT ON COLUMN @extschema@.lead_overview.subject IS 'subject of interest';
COMMENT ON COLUMN @extschema@.lead_overview.city IS 'city';
COMMENT ON COLUMN @extschema@.lead_overview.city_tier IS 'city tier, 1 to 5';
COMMENT ON COLUMN @extschema@.lead_overview.first_channel IS 'code of the channel of the first submission';
COMMENT ON COLUMN @extschema@.lead_overview.latest_channel IS 'code of the channel of the latest submission';
COMMENT ON COLUMN @extschema@.lead_overview.created_at IS 'time of the first submission';
COMMENT ON COLUMN @extschema@.lead_overview.last_touch_at IS 'time of the latest submission or touch';
COMMENT ON COLUMN @extschema@.lead_overview.status IS 'sales status';
COMMENT ON COLUMN @extschema@.lead_overview.pool IS 'public (公海) or private (私海)';
COMMENT ON COLUMN @extschema@.lead_overview.owner_rep_id IS 'id of the owning rep, NULL in the public pool';
COMMENT ON COLUMN @extschema@.lead_overview.owner_name IS 'name of the owning rep';
COMMENT ON COLUMN @extschema@.lead_overview.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.lead_overview.score IS 'predicted conversion probability';
CREATE OR REPLACE VIEW @extschema@.channel_daily WITH (security_invoker = true) AS
WITH spend AS (
  SELECT s.org_id, s.spend_date AS day, s.channel_id,
         sum(s.spend) AS spend, sum(s.impressions) AS impressions, sum(s.clicks) AS clicks
    FROM @extschema@.ad_spend s
   GROUP BY s.org_id, s.spend_date, s.channel_id
), leads AS (
  SELECT l.org_id, (l.created_at AT TIME ZONE o.timezone)::date AS day, l.first_channel_id AS channel_id,
         count(*) AS leads, count(*) FILTER (WHERE l.phone_valid) AS valid_leads
    FROM @extschema@.lead l
    JOIN @extschema@.org o ON o.org_id = l.org_id
   GROUP BY 1, 2, 3
)
SELECT c.org_id,
       d.day,
       c.code                                  AS channel,
       c.kind                                  AS channel_kind,
       coalesce(d.spend, 0)::numeric(14,2)     AS spend,
       coalesce(d.impressions, 0)::bigint      AS impressions,
       coalesce(d.clicks, 0)::bigint           AS clicks,
       coalesce(d.leads, 0)::bigint            AS leads,
       coalesce(d.valid_leads, 0)::bigint      AS valid_leads,
       round(d.spend / nullif(d.leads, 0), 2)       AS cost_per_lead,
       round(d.spend / nullif(d.valid_leads, 0), 2) AS cost_per_valid_lead
  FROM (SELECT coalesce(s.org_id, l.org_id) AS org_id, coalesce(s.day, l.day) AS day,
               coalesce(s.channel_id, l.channel_id) AS channel_id,
               s.spend, s.impressions, s.clicks, l.leads, l.valid_leads
          FROM spend s
          FULL JOIN leads l ON l.org_id = s.org_id AND l.day = s.day AND l.channel_id = s.channel_id) d
  JOIN @extschema@.channel c ON c.org_id = d.org_id AND c.channel_id = d.channel_id;

COMMENT ON VIEW @extschema@.channel_daily IS 'per org, day (org time zone) and channel: ad spend, impressions, clicks, leads by first channel, and cost per lead';
COMMENT ON COLUMN @extschema@.channel_daily.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_daily.day IS 'day in the org time zone';
COMMENT ON COLUMN @extschema@.channel_daily.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_daily.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_daily.spend IS 'ad spend of the day';
COMMENT ON COLUMN @extschema@.channel_daily.impressions IS 'ad impressions of the day';
COMMENT ON COLUMN @extschema@.channel_daily.clicks IS 'ad clicks of the day';
COMMENT ON COLUMN @extschema@.channel_daily.leads IS 'new leads whose first submission came through the channel that day';
COMMENT ON COLUMN @extschema@.channel_daily.valid_leads IS 'of those, leads with a valid phone (duplicates are never counted twice)';
COMMENT ON COLUMN @extschema@.channel_daily.cost_per_lead IS 'CPL: spend divided by leads; NULL without leads';
COMMENT ON COLUMN @extschema@.channel_daily.cost_per_valid_lead IS 'spend divided by valid leads; NULL without valid leads';
CREATE OR REPLACE VIEW @extschema@.channel_roi WITH (security_invoker = true) AS
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
CREATE OR REPLACE VIEW @extschema@.channel_payback WITH (security_invoker = true) AS
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
-- recycle_schedule is the query of recycle_due() for every org (since 0.12:
-- Citus cannot plan a view that calls a table-reading function per org)
CREATE OR REPLACE VIEW @extschema@.recycle_schedule WITH (security_invoker = true) AS
SELECT d.org_id, d.lead_id, d.owner_rep_id AS rep_id, d.tier, d.owned_since, d.first_at AS first_follow_up_at,
       d.fu_due AS follow_up_due_at, d.deal_due AS deal_due_at, least(d.fu_due, d.deal_due) AS recycle_at,
       CASE WHEN d.fu_due <= d.deal_due THEN 'recycle_no_follow_up' ELSE 'recycle_no_deal' END AS reason
  FROM (SELECT l.org_id, l.lead_id, l.owner_rep_id, coalesce(l.tier, 'D')::char(1) AS tier, l.owned_since, f.first_at,
               CASE WHEN f.first_at IS NULL THEN l.owned_since + p.follow_up_sla END AS fu_due,
               l.owned_since + o.recycle_no_deal_after AS deal_due
          FROM @extschema@.lead l
          JOIN @extschema@.org o ON o.org_id = l.org_id
          JOIN @extschema@.effective_tier_policy p ON p.org_id = l.org_id AND p.tier = coalesce(l.tier, 'D')
          LEFT JOIN LATERAL (SELECT min(x.occurred_at) AS first_at FROM @extschema@.follow_up x
                              WHERE x.org_id = l.org_id AND x.lead_id = l.lead_id AND x.rep_id = l.owner_rep_id
                                AND x.occurred_at >= l.owned_since) f ON true
         WHERE l.pool = 'private' AND l.status NOT IN ('won', 'lost')) d;
COMMENT ON VIEW @extschema@.recycle_schedule IS 'every owned open lead with the time it falls due for recycling (回收) and why: its tier''s follow-up SLA after it was taken while the owner has not followed up, else the org''s recycle_no_deal_after; recycle_due(org_id) gives one org''s rows';
COMMENT ON COLUMN @extschema@.recycle_schedule.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.recycle_schedule.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.rep_id IS 'rep who owns it now';
COMMENT ON COLUMN @extschema@.recycle_schedule.tier IS 'tier of the lead (D when it has none)';
COMMENT ON COLUMN @extschema@.recycle_schedule.owned_since IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.first_follow_up_at IS 'the owner''s first follow-up since then; NULL when none yet';
COMMENT ON COLUMN @extschema@.recycle_schedule.follow_up_due_at IS 'first follow-up due by this time under the tier''s SLA; NULL once the rep followed up';
COMMENT ON COLUMN @extschema@.recycle_schedule.deal_due_at IS 'deal (status won) due by this time';
COMMENT ON COLUMN @extschema@.recycle_schedule.recycle_at IS 'when the lead is recycled: the earlier of the two';
COMMENT ON COLUMN @extschema@.recycle_schedule.reason IS 'recycle_no_follow_up or recycle_no_deal';
CREATE OR REPLACE VIEW @extschema@.recycle_warnings WITH (security_invoker = true) AS
-- tier::bpchar: the type the column had from recycle_due() until 0.11
SELECT o.org_id, d.lead_id, d.rep_id, r.name AS rep_name, d.tier::bpchar AS tier, d.owned_since, d.follow_up_due_at, d.deal_due_at,
       d.recycle_at, d.reason AS recycle_reason,
       d.recycle_at - coalesce(o.report_as_of, now()) AS due_in,
       d.recycle_at <= coalesce(o.report_as_of, now()) AS overdue
  FROM @extschema@.org o
  JOIN @extschema@.recycle_schedule d ON d.org_id = o.org_id
  JOIN @extschema@.sales_rep r ON r.org_id = o.org_id AND r.rep_id = d.rep_id
 WHERE d.recycle_at <= coalesce(o.report_as_of, now()) + o.recycle_warning;
CREATE OR REPLACE VIEW @extschema@.pool_health WITH (security_invoker = true) AS
-- the org's clock in a subquery of org and the warnings as a join (since
-- 0.12: Citus cannot push down a FROM-less subquery calling now(), nor a
-- correlated subquery in the select list)
SELECT o.org_id, o.as_of,
       p.public_leads, p.public_tier_a, p.public_tier_b, p.public_tier_c, p.public_tier_d, p.public_untiered,
       p.oldest_public_created_at, o.as_of - p.oldest_public_created_at AS oldest_public_age,
       p.private_leads,
       h.assigned_today, h.claimed_today, h.recycled_today, h.recycled_last_7_days,
       coalesce(w.due, 0) AS due_for_recycling
  FROM (SELECT o.org_id, coalesce(o.report_as_of, now()) AS as_of,
               (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date::timestamp AT TIME ZONE o.timezone AS day_start
          FROM @extschema@.org o) o
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE l.pool = 'public') AS public_leads,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'A') AS public_tier_a,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'B') AS public_tier_b,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'C') AS public_tier_c,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'D') AS public_tier_d,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier IS NULL) AS public_untiered,
          min(l.created_at) FILTER (WHERE l.pool = 'public') AS oldest_public_created_at,
          count(*) FILTER (WHERE l.pool = 'private') AS private_leads
     FROM @extschema@.lead l WHERE l.org_id = o.org_id AND l.status NOT IN ('won', 'lost')) p
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy') AND a.assigned_at >= o.day_start) AS assigned_today,
          count(*) FILTER (WHERE a.reason = 'claim' AND a.assigned_at >= o.day_start) AS claimed_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start) AS recycled_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start - interval '6 days') AS recycled_last_7_days
     FROM @extschema@.assignment a
    WHERE a.org_id = o.org_id AND (a.assigned_at >= o.day_start OR a.released_at >= o.day_start - interval '6 days')) h
  LEFT JOIN (SELECT w.org_id, count(*) AS due FROM @extschema@.recycle_warnings w GROUP BY w.org_id) w ON w.org_id = o.org_id;
CREATE OR REPLACE VIEW @extschema@.student_lifetime WITH (security_invoker = true) AS
-- the chains of renewals come from renewal_chains() over each org's terms
-- (since 0.12; a recursive CTE before, which Citus cannot plan)
WITH chain AS (
  SELECT g.org_id, c.enrollment_id, c.first_enrollment_id, c.term_no
    FROM (SELECT st.org_id, array_agg(st.enrollment_id) AS ids, array_agg(st.renewed_into) AS renewed_into
            FROM @extschema@.student_term st GROUP BY st.org_id) g
   CROSS JOIN LATERAL @extschema@.renewal_chains(g.ids, g.renewed_into) c
), spell AS (
  -- each spell's last term, carrying its first term's student, start and segments
  SELECT DISTINCT ON (t.org_id, c.first_enrollment_id)
         t.org_id, first_value(t.student_id) OVER w AS student_id, c.first_enrollment_id,
         first_value(t.enrolled_at) OVER w AS started_at, first_value(t.course_id) OVER w AS course_id,
         first_value(t.class_id) OVER w AS class_id, first_value(t.teacher_id) OVER w AS teacher_id,
         first_value(t.area) OVER w AS area,
         t.enrollment_id, t.term_end, t.ended_at, t.outcome, c.term_no AS terms
    FROM chain c
    JOIN @extschema@.student_term t ON t.org_id = c.org_id AND t.enrollment_id = c.enrollment_id
  WINDOW w AS (PARTITION BY t.org_id, c.first_enrollment_id ORDER BY c.term_no)
   ORDER BY t.org_id, c.first_enrollment_id, c.term_no DESC
), ends AS (
  SELECT s.*, o.timezone,
         CASE WHEN s.outcome = 'churned'
              THEN coalesce(s.ended_at, (s.term_end + 1)::timestamp AT TIME ZONE o.timezone)
              ELSE coalesce(o.report_as_of, now()) END AS end_at
    FROM spell s
    JOIN @extschema@.org o ON o.org_id = s.org_id
)
SELECT s.org_id, s.student_id,
       row_number() OVER (PARTITION BY s.org_id, s.student_id ORDER BY s.started_at, s.first_enrollment_id)::int AS spell_no,
       s.first_enrollment_id, s.enrollment_id AS last_enrollment_id, s.started_at,
       date_trunc('month', s.started_at AT TIME ZONE s.timezone)::date AS cohort_month,
       s.terms,
       CASE s.outcome WHEN 'in_term' THEN s.terms - 1 ELSE s.terms END AS completed_terms,
       s.outcome = 'churned' AS churned,
       s.end_at AS ended_at,
       greatest(0, extract(epoch FROM s.end_at - s.started_at) / 86400)::float8 AS lifetime_days,
       CASE WHEN stu.birth_date IS NULL THEN NULL
            ELSE (2 * floor(extract(year FROM age((s.started_at AT TIME ZONE s.timezone)::date, stu.birth_date)) / 2))::int END AS age_band_start,
       stu.grade, s.course_id, s.class_id, s.teacher_id, s.area, ld.first_channel_id AS channel_id
  FROM ends s
  JOIN @extschema@.student stu ON stu.org_id = s.org_id AND stu.student_id = s.student_id
  LEFT JOIN @extschema@.lead ld ON ld.org_id = stu.org_id AND ld.lead_id = stu.lead_id;
-- 3. the features of the conversion model as a view (lead_features), which
--    model_lift joins instead of calling a table-reading function per org
-- every lead's features (since 0.12; lead_feature_values(org_id) gives one
-- org's rows): a view, so that model_lift joins it where Citus can plan it
CREATE OR REPLACE VIEW @extschema@.lead_features WITH (security_invoker = true) AS
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
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       jsonb_build_object(
         'channel', ch.code,
         'subject', coalesce(l.subject, 'unknown'),
         'city_tier', coalesce('tier ' || l.city_tier, 'unknown'),
         'age_band', coalesce((2 * (l.child_age / 2)) || '-' || (2 * (l.child_age / 2) + 1), 'unknown'),
         'stage', (CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                        WHEN ev.verified THEN 'C' ELSE 'D' END)::char(1),
         'log_touches', ln(1 + coalesce(tc.n, 0)),
         'log_response_hours', CASE WHEN fc.at IS NULL THEN 0
                                    ELSE ln(1 + least(720, greatest(0, extract(epoch FROM fc.at - l.created_at) / 3600))) END,
         'no_follow_up', (fc.at IS NULL)::int) AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN ev ON ev.org_id = l.org_id AND ev.lead_id = l.lead_id
  LEFT JOIN tr ON tr.org_id = l.org_id AND tr.lead_id = l.lead_id
  LEFT JOIN touches tc ON tc.org_id = l.org_id AND tc.lead_id = l.lead_id
  LEFT JOIN first_contact fc ON fc.org_id = l.org_id AND fc.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_features IS 'the raw attributes the conversion model learns from, per lead (channel, subject, city tier, age band, behaviour stage, touches, response time), with the label: paid within org.conversion_days';
COMMENT ON COLUMN @extschema@.lead_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_features.created_at IS 'when the lead came in';
COMMENT ON COLUMN @extschema@.lead_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_features.vals IS 'the features as a JSON object: channel, subject, city_tier, age_band, stage (A-D), log_touches, log_response_hours, no_follow_up';
COMMENT ON COLUMN @extschema@.lead_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';
CREATE OR REPLACE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
-- the features from the view lead_features since 0.12 (a table-reading
-- function per org before, which Citus cannot run inside a shard's query)
WITH held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
    JOIN @extschema@.lead_features f ON f.org_id = cm.org_id
   WHERE f.created_at >= cm.test_from AND f.created_at < cm.trained_to AND f.label_known
), d AS (
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
CREATE OR REPLACE VIEW @extschema@.student_segment WITH (security_invoker = true) AS
-- the segment names in a subquery before the lateral list (since 0.12):
-- Citus 13.0.5 crashes planning the outer joins when the list reads some
-- columns of student_lifetime itself under row-level security
SELECT x.org_id, x.student_id, x.spell_no, s.segment_kind, coalesce(s.segment, 'unknown') AS segment,
       x.lifetime_days, x.completed_terms, x.churned
  FROM (SELECT l.org_id, l.student_id, l.spell_no, l.lifetime_days, l.completed_terms, l.churned, l.area,
               l.age_band_start || '-' || (l.age_band_start + 1) AS age_band, 'grade ' || l.grade AS grade,
               c.code AS course, cc.name AS class, tc.name AS teacher, ch.code AS channel
          FROM @extschema@.student_lifetime l
          LEFT JOIN @extschema@.course c ON c.org_id = l.org_id AND c.course_id = l.course_id
          LEFT JOIN @extschema@.course_class cc ON cc.org_id = l.org_id AND cc.class_id = l.class_id
          LEFT JOIN @extschema@.teacher tc ON tc.org_id = l.org_id AND tc.teacher_id = l.teacher_id
          LEFT JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.channel_id) x
 CROSS JOIN LATERAL (VALUES
   ('all', 'all'),
   ('age_band', x.age_band),
   ('grade', x.grade),
   ('course', x.course),
   ('class', x.class),
   ('teacher', x.teacher),
   ('area', x.area),
   ('channel', x.channel)) AS s(segment_kind, segment);
$step$
WHEN '0.14' THEN $step$
-- 0.14 (docs/changelog.md): the lead lifecycle, src/sql/schema/lifecycle.sql
-- (the Makefile puts it here; it is safe to run on a schema that has it)
-- @schema lifecycle@ (src/sql/schema/lifecycle.sql)
$step$
WHEN '0.15' THEN $step$
-- 0.15 (docs/changelog.md): the org's time window, src/sql/schema/time_window.sql
-- (a line '-- @schema NAME@' takes src/sql/schema/NAME.sql, as the Makefile builds it)
-- @schema time_window@ (src/sql/schema/time_window.sql)
-- lead_funnel reads each lead's stages in a LATERAL subquery (the same
-- rows; src/sql/schema/funnel.sql, whose text this is)
-- @view lead_funnel@ (src/sql/schema, as CREATE OR REPLACE VIEW)

-- conversion_credit groups by the conversion's keys alone and
-- attribution_comparison joins the converted leads (the same rows;
-- src/sql/schema/roi.sql, whose text this is)
-- @view conversion_credit@ (src/sql/schema, as CREATE OR REPLACE VIEW)
-- @view attribution_comparison@ (src/sql/schema, as CREATE OR REPLACE VIEW)
-- cohort_retention reads each spell's months in a LATERAL subquery (the
-- same rows; src/sql/schema/service.sql, whose text this is)
-- @view cohort_retention@ (src/sql/schema, as CREATE OR REPLACE VIEW)
-- model_lift reads each model's held-out leads in a LATERAL subquery (the
-- same rows).  Its text as 0.15 landed it, frozen here: 0.16 changed the
-- view, and a '-- @view' marker takes the view's text of now (a landed
-- step's marker becomes its text when a later version changes the view;
-- docs/dba/layout.md)
CREATE OR REPLACE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
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
$step$
WHEN '0.16' THEN $step$
-- 0.16 (docs/changelog.md): a rep's dated leave, src/sql/schema/master_data.sql
-- @schema master_data@ (src/sql/schema/master_data.sql)
-- and a visitor's anonymous touches linked to its lead, src/sql/schema/ingest.sql
-- @schema ingest@ (src/sql/schema/ingest.sql)
-- the form-time model: conversion_model.stage, lead.form_score,
-- src/sql/schema/form_model.sql; the view lead_form_features (with its
-- comments), model_registry gains the stage, and model_lift scores a form
-- model's held-out leads on their form-time features
-- @schema form_model@ (src/sql/schema/form_model.sql)
-- (its text as 0.16 landed it, frozen here: 0.17 changed the view)
CREATE OR REPLACE VIEW @extschema@.lead_form_features WITH (security_invoker = true) AS
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
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       @extschema@.lead_form_vals(ch.code, cp.code, l.subject, l.city_tier, l.child_age, l.grade,
                                  l.created_at AT TIME ZONE o.timezone, l.attrs ->> 'variant', pr.n) AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  LEFT JOIN prior pr ON pr.org_id = l.org_id AND pr.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_form_features IS 'the form-time features of each lead (since 0.16): only what is known when its form arrives, which a form-stage conversion model learns from and ingest_lead scores; the label as in lead_features';
COMMENT ON COLUMN @extschema@.lead_form_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_form_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_form_features.created_at IS 'when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_form_features.vals IS 'the features as a JSON object (lead_form_vals()): channel, campaign, subject, city_tier, age_band, grade, daypart, weekend, variant, log_prior_touches';
COMMENT ON COLUMN @extschema@.lead_form_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_form_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';
-- @view model_registry@ (src/sql/schema, as CREATE OR REPLACE VIEW)
-- @view model_lift@ (src/sql/schema, as CREATE OR REPLACE VIEW)
$step$
WHEN '0.17' THEN $step$
-- 0.17 (docs/changelog.md): real-time tiers and routing, routing by expected
-- value and the routing holdout, src/sql/schema/routing.sql
-- @schema routing@ (src/sql/schema/routing.sql)
-- grade and tags become features of both conversion models, and the health
-- of the active models (src/sql/schema/model_health.sql)
-- @view lead_features@ (src/sql/schema, as CREATE OR REPLACE VIEW)
-- @view lead_form_features@ (src/sql/schema, as CREATE OR REPLACE VIEW)
-- @schema model_health@ (src/sql/schema/model_health.sql)
$step$
END
$schema_ddl$;
COMMENT ON FUNCTION @extschema@.schema_ddl(text) IS 'the DDL install() runs: ''full'' for the whole schema, ''schema_version'' for its own record, or a version of schema_steps() for the step from the version before; NULL for anything else';

CREATE FUNCTION @extschema@.install() RETURNS text
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
  steps text[] := @extschema@.schema_steps();
  newest text := steps[cardinality(steps)];
  have text;
  done text[] := '{}';
  s text;
  distributed boolean;
BEGIN
  -- one install at a time in a database
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leadmgmt.install'), 0);
  IF pg_catalog.to_regclass('@extschema@.schema_version') IS NULL THEN
    IF pg_catalog.to_regclass('@extschema@.org') IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = '55000',
        MESSAGE = 'leadmgmt''s tables exist but its schema_version table does not',
        DETAIL = 'install() cannot tell which steps of the schema they have.',
        HINT = 'Restore leadmgmt.schema_version with the rest of the dump, or drop the tables of the schema leadmgmt.';
    END IF;
    EXECUTE @extschema@.schema_ddl('full');
    EXECUTE @extschema@.schema_ddl('schema_version');
    INSERT INTO @extschema@.schema_version (version, how) VALUES (newest, 'full');
    PERFORM @extschema@.apply_policies();
    RETURN format('installed schema %s', newest);
  END IF;

  SELECT v.version INTO have FROM @extschema@.schema_version v
   ORDER BY pg_catalog.string_to_array(v.version, '.')::int[] DESC LIMIT 1;
  IF have IS NULL OR NOT have = ANY (steps) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('leadmgmt''s schema is at version %s, which this code (%s) does not know', coalesce(have, 'none'),
                       @extschema@.version()),
      HINT = 'Update the extension: ALTER EXTENSION leadmgmt UPDATE, then run leadmgmt.install() again.';
  END IF;
  FOREACH s IN ARRAY steps LOOP
    IF pg_catalog.string_to_array(s, '.')::int[] > pg_catalog.string_to_array(have, '.')::int[] THEN
      EXECUTE @extschema@.schema_ddl(s);
      INSERT INTO @extschema@.schema_version (version, how) VALUES (s, 'step');
      done := done || s;
    END IF;
  END LOOP;
  -- always: the policies of this code, and the group roles and privileges of
  -- every granted role (after a restore into a database of another name, the
  -- group roles of its grants do not exist yet: access.c)
  PERFORM @extschema@.apply_policies();
  PERFORM @extschema@.apply_privileges(r.oid::regrole)
     FROM (SELECT DISTINCT g.role_name FROM @extschema@.access_grant g) g
     JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
  -- on a Citus cluster already distributed, what the steps added (tables,
  -- views over them, write functions) is distributed at once (since 0.17): a
  -- view over a new table would fail on the workers until distribute() runs
  IF cardinality(done) > 0 AND pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = ''@extschema@.org''::regclass)' INTO distributed;
    IF distributed THEN
      PERFORM @extschema@.distribute();
    END IF;
  END IF;
  IF cardinality(done) = 0 THEN
    RETURN format('schema %s is up to date', have);
  END IF;
  RETURN format('updated schema %s to %s (steps %s)', have, newest, array_to_string(done, ', '));
END
$$;
REVOKE ALL ON FUNCTION @extschema@.install() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.install() IS 'creates leadmgmt''s tables, constraints, indexes, triggers and views (the whole schema in a new database), or applies the steps of the schema that are missing after ALTER EXTENSION leadmgmt UPDATE; then (re)applies the policies (apply_policies) and, in a database that has them, the group roles and privileges of every granted role; on a Citus cluster already distributed, distributes what the steps added (distribute(), since 0.17); safe to run again; returns what it did';

CREATE FUNCTION @extschema@.require_schema() RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  steps text[] := @extschema@.schema_steps();
  have text;
BEGIN
  IF to_regclass('@extschema@.schema_version') IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = 'leadmgmt''s tables are not installed in this database',
      HINT = 'Run SELECT leadmgmt.install(); as the role that owns the data (docs/dba/install.md).';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.schema_version v WHERE v.version = steps[cardinality(steps)]) THEN
    SELECT v.version INTO have FROM @extschema@.schema_version v
     ORDER BY string_to_array(v.version, '.')::int[] DESC LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('leadmgmt''s schema is at version %s, but its code needs %s', coalesce(have, 'none'),
                       steps[cardinality(steps)]),
      HINT = 'Run SELECT leadmgmt.install(); to apply the missing steps (docs/dba/install.md).';
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.require_schema() IS 'raises 55000, naming the call to run (leadmgmt.install()), unless the schema this code needs is installed; the org lookups of the write functions call it';
