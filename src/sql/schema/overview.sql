-- ---------------------------------------------------------------------------
-- Views for BI tools (docs/bi.md).  All are security_invoker, so row-level
-- security applies to whoever queries them.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.lead_overview WITH (security_invoker = true) AS
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

CREATE VIEW @extschema@.channel_daily WITH (security_invoker = true) AS
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
