-- leadmgmt 0.12 -> 0.13, built from src/sql/parts: fn:refresh_tiers fn:recycle_stale fn:score_leads

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

CREATE OR REPLACE FUNCTION @extschema@.recycle_stale(org_id bigint, at timestamptz DEFAULT NULL)
RETURNS TABLE (lead_id bigint, previous_rep_id bigint, reason text)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(recycle_stale.org_id);
  t timestamptz := coalesce(recycle_stale.at, now());
  ids bigint[];
  reps bigint[];
  reasons text[];
  locked bigint[];
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  IF t IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'at must be finite';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', o.org_id));
  PERFORM @extschema@.rep_load_sync(o, t);
  -- the due leads first, locked, in statements of their own: the updates
  -- below read no table-reading function, which Citus would push into the
  -- query on the shard when this runs on the coordinator (since 0.13)
  SELECT array_agg(d.lead_id), array_agg(d.rep_id), array_agg(d.reason) INTO ids, reps, reasons
    FROM @extschema@.recycle_due(o.org_id) d WHERE d.recycle_at <= t;
  IF ids IS NULL THEN
    RETURN;
  END IF;
  SELECT array_agg(k.lead_id) INTO locked
    FROM (SELECT l.lead_id FROM @extschema@.lead l JOIN unnest(ids, reps) AS d(lead_id, rep_id)
                    ON l.lead_id = d.lead_id AND l.owner_rep_id = d.rep_id
           WHERE l.org_id = o.org_id AND l.lead_id = ANY (ids)
             FOR UPDATE OF l SKIP LOCKED) k;
  IF locked IS NULL THEN
    RETURN;
  END IF;
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  RETURN QUERY
  WITH due AS MATERIALIZED (
    SELECT d.lead_id, d.rep_id, d.reason
      FROM unnest(ids, reps, reasons) AS d(lead_id, rep_id, reason)
     WHERE d.lead_id = ANY (locked)
  ), moved AS (
    UPDATE @extschema@.lead l SET pool = 'public', owner_rep_id = NULL, owned_since = NULL, updated_at = now()
      FROM due WHERE l.org_id = o.org_id AND l.lead_id = due.lead_id
    RETURNING l.lead_id
  ), closed AS (
    UPDATE @extschema@.assignment a SET released_at = greatest(t, a.assigned_at), release_reason = due.reason
      FROM due WHERE a.org_id = o.org_id AND a.lead_id = due.lead_id AND a.released_at IS NULL
    RETURNING a.lead_id
  ), counted AS (
    UPDATE @extschema@.rep_load r SET open_leads = greatest(r.open_leads - c.n, 0)
      FROM (SELECT due.rep_id, count(*)::integer AS n FROM due GROUP BY due.rep_id) c
     WHERE r.org_id = o.org_id AND r.rep_id = c.rep_id
  )
  -- data-modifying CTEs run to completion whether read or not
  SELECT due.lead_id, due.rep_id, due.reason FROM due ORDER BY due.lead_id;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
END
$$;
COMMENT ON FUNCTION @extschema@.recycle_stale(bigint, timestamptz) IS 'returns to the public pool (回收) every owned open lead whose owner has not followed up within the tier''s SLA, or that has had no deal within the org''s recycle_no_deal_after; closes its assignment with the reason and returns the leads, previous owners and reasons; leads locked by others wait for the next run';

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
