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
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
-- since 0.12 the rows of the view conversion_credit, which no view calls
-- this any more (Citus cannot plan a parameterised SQL function); the
-- filter on model reaches the view's credit pass
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model, c.channel, c.campaign_id, c.credit,
         c.credited_revenue, c.credited_ltv_revenue, c.touches
    FROM @extschema@.conversion_credit c
   WHERE c.model = ANY (conversion_credits.models);
END
$$;
COMMENT ON FUNCTION @extschema@.conversion_credits(text[]) IS 'the rows of the view conversion_credit for the named models only (each model costs a pass over the journeys); the views filter conversion_credit themselves since 0.12';
