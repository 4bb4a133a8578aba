-- ---------------------------------------------------------------------------
-- Attribution and channel ROI views (docs/reference/attribution.md): since 0.3
--
-- A conversion is a lead's first paid order (renewals are not conversions);
-- its journey is the lead's touchpoints.  Spend is never split by
-- attribution; conversions and revenue are.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.conversion_credits(models text[])
RETURNS TABLE (org_id bigint, order_id bigint, lead_id bigint, converted_at timestamptz, model text, channel text,
               campaign_id bigint, credit float8, credited_revenue float8, credited_ltv_revenue float8, touches bigint)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
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
  SELECT c.org_id, c.lead_id, c.order_id, c.converted_at,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + o.ltv_horizon), 0) AS ltv_revenue,
         -- options built once per conversion, not per touch
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM conv c
    JOIN @extschema@.org o ON o.org_id = c.org_id
    LEFT JOIN direct_keys dk ON dk.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.lead_id, c.order_id, c.converted_at, o.ltv_horizon, o.attribution_lookback_days, dk.keys
), credit AS (
  SELECT cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  cv.options) AS credits
    FROM cv
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (SELECT DISTINCT x.model FROM unnest(models) x(model)) m
   GROUP BY cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x
$$;
COMMENT ON FUNCTION @extschema@.conversion_credits(text[]) IS 'the rows of conversion_credit for the named models only (each model costs a pass over the journeys): channel_roi asks just for the orgs'' models';
