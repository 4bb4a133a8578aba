
-- the default policy, written once in C (src/tiers.c), where the assignment
-- roster reads it too
CREATE FUNCTION @extschema@.tier_defaults()
RETURNS TABLE (tier char(1), handler_role text, cost_per_contact numeric, follow_up_sla interval, min_score float8)
AS 'MODULE_PATHNAME', 'leadmgmt_tier_defaults' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION @extschema@.tier_defaults() IS 'the default tier policy, tiers A to D: handler role, cost per contact, follow-up SLA and least score; an org''s tier_policy rows override it';

-- stage and tier of the leads of an org, computed set-based: one grouped
-- pass over the events, the policy read once
CREATE FUNCTION @extschema@.lead_tiers(org_id bigint, only_lead bigint DEFAULT NULL)
RETURNS TABLE (lead_id bigint, current_tier char(1), stage char(1), score float8, tier char(1), reason text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  -- PL/pgSQL plans with the actual arguments, so one lead is found by index
  RETURN QUERY
  WITH pol AS MATERIALIZED (
    SELECT p.tier, p.min_score FROM @extschema@.effective_tier_policy p
     WHERE p.org_id = lead_tiers.org_id AND p.min_score IS NOT NULL
  ), ld AS (
    -- the contact model's score, else (since 0.17) the form-time score
    SELECT l.lead_id, l.tier, coalesce(l.score, l.form_score) AS score FROM @extschema@.lead l
     WHERE l.org_id = lead_tiers.org_id AND (only_lead IS NULL OR l.lead_id = only_lead)
  ), ev AS (
    SELECT e.lead_id,
           bool_or(e.event_type = 'trial_booked' AND e.attrs @> '{"self_booked": true}') AS self_booked,
           bool_or(e.event_type = 'wechat_followed') AS followed,
           bool_or(e.event_type = 'sms_verified') AS verified
      FROM @extschema@.lead_event e
     WHERE e.org_id = lead_tiers.org_id AND (only_lead IS NULL OR e.lead_id = only_lead)
       AND e.event_type IN ('trial_booked', 'wechat_followed', 'sms_verified')
     GROUP BY e.lead_id
  ), tr AS (
    SELECT DISTINCT t.lead_id FROM @extschema@.trial_lesson t
     WHERE t.org_id = lead_tiers.org_id AND (only_lead IS NULL OR t.lead_id = only_lead) AND t.self_booked
  ), st AS (
    SELECT ld.lead_id, ld.tier AS current_tier, ld.score,
           CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                WHEN ev.verified THEN 'C' ELSE 'D' END::char(1) AS stage
      FROM ld LEFT JOIN ev ON ev.lead_id = ld.lead_id LEFT JOIN tr ON tr.lead_id = ld.lead_id
  )
  SELECT st.lead_id, st.current_tier, st.stage, st.score,
         least(st.stage, coalesce(best.tier, st.stage))::char(1),
         CASE WHEN best.tier < st.stage
              THEN format('score %s >= %s for %s', round(st.score::numeric, 2), round(best.min_score::numeric, 2), best.tier)
              ELSE 'stage ' || st.stage END
    FROM st
    LEFT JOIN LATERAL (SELECT pol.tier, pol.min_score FROM pol WHERE st.score >= pol.min_score
                        ORDER BY pol.tier LIMIT 1) best ON true;
END
$$;
COMMENT ON FUNCTION @extschema@.lead_tiers(bigint, bigint) IS 'behaviour stage (D form only, C SMS verified, B WeChat followed, A self-booked trial), current and due tier of the leads of an org (or of one lead): the better of the stage and, when the lead has a score, the tier its probability earns under the tier policy';

CREATE FUNCTION @extschema@.lead_tier(org_id bigint, lead_id bigint) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT t.tier::text FROM @extschema@.lead_tiers(lead_tier.org_id, lead_tier.lead_id) t
$$;
COMMENT ON FUNCTION @extschema@.lead_tier(bigint, bigint) IS 'tier A to D a lead should have now; NULL for an unknown lead';

-- On Citus, lead_tiers' queries and the tier_change insert run as queries
-- nested in the update of the org's lead shard, which Citus allows in a
-- delegated call only with citus.allow_nested_distributed_execution: they
-- touch only the org's shards on this node, and a lead whose tier changed
-- meanwhile is skipped by the re-checked condition below.
CREATE FUNCTION @extschema@.refresh_tiers(org_id bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
DECLARE
  o record := @extschema@.ingest_org(refresh_tiers.org_id);
  n integer;
  ids bigint[];
  olds text[];
  news text[];
  stages text[];
  scores float8[];
  reasons text[];
BEGIN
  -- the due tiers first, in a statement of their own: the UPDATE below reads
  -- no table-reading function, which Citus would push into the query on the
  -- shard when this runs on the coordinator (since 0.13)
  SELECT array_agg(t.lead_id), array_agg(t.current_tier), array_agg(t.tier), array_agg(t.stage),
         array_agg(t.score), array_agg(t.reason)
    INTO ids, olds, news, stages, scores, reasons
    FROM @extschema@.lead_tiers(o.org_id) t
   WHERE t.current_tier IS DISTINCT FROM t.tier;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;
  -- l.tier is checked again on the row being updated, so a concurrent refresh
  -- that got there first makes this one skip the lead rather than log it twice
  WITH changed AS (
    UPDATE @extschema@.lead l SET tier = t.tier, updated_at = now()
      FROM unnest(ids, olds, news, stages, scores, reasons) AS t(lead_id, current_tier, tier, stage, score, reason)
     WHERE l.org_id = o.org_id AND l.lead_id = t.lead_id AND l.tier IS DISTINCT FROM t.tier
    RETURNING l.lead_id, t.current_tier AS old_tier, t.tier AS new_tier, t.stage, t.score, t.reason
  )
  INSERT INTO @extschema@.tier_change (org_id, lead_id, old_tier, new_tier, stage, score, reason)
  SELECT o.org_id, c.lead_id, c.old_tier, c.new_tier, c.stage, c.score, c.reason FROM changed c;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_tiers(bigint) IS 'recomputes the tier of every lead of an org in one set-based pass, updates the leads whose tier changed and logs each change with its reason in tier_change; returns how many changed';
