-- leadmgmt 0.12 -> 0.13, built from src/sql/parts: fn:refresh_tiers fn:score_leads fn:check_org_engine

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.13'" to load this file. \quit

CREATE OR REPLACE FUNCTION @extschema@.refresh_tiers(org_id bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
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

CREATE OR REPLACE FUNCTION @extschema@.score_leads(org_id bigint, model_id bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
#variable_conflict use_column
DECLARE
  m record := @extschema@.scoring_model(score_leads.org_id, score_leads.model_id);
  n integer;
  ids bigint[];
  ps float8[];
BEGIN
  -- one scoring run per org at a time: concurrent runs wait instead of deadlocking on leads
  PERFORM pg_advisory_xact_lock(hashtext('leadmgmt.score_leads'), m.org_id::integer);
  -- the scores first, in a statement of their own: the UPDATE reads no
  -- table-reading function, which Citus would push into the query on the
  -- shard when this runs on the coordinator (since 0.13)
  SELECT array_agg(v.lead_id), array_agg(@extschema@.model_predict(m.kind, m.coef, m.encoding, m.nb_tables, v.vals))
    INTO ids, ps
    FROM @extschema@.lead_feature_values(m.org_id) v WHERE v.status NOT IN ('won', 'lost');
  UPDATE @extschema@.lead l
     SET score = s.p, scored_at = now(), score_model_id = m.model_id
    FROM unnest(ids, ps) AS s(lead_id, p)
   WHERE l.org_id = m.org_id AND l.lead_id = s.lead_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.score_leads(bigint, bigint) IS 'scores the org''s open leads (not won or lost) with the active model or the one named, writing score, scored_at and score_model_id; refresh_tiers then uses the scores';

CREATE OR REPLACE FUNCTION @extschema@.check_org_engine(org_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'leadmgmt_check_org_engine' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_org_engine(bigint) IS 'raises 42501 unless the current role has app or admin access to the org (or is a superuser): the right to run assignment and recycling; on a Citus node that does not hold the org''s shards raises 0A000 (since 0.13): the engine runs where the org is, in a call Citus delegates';
