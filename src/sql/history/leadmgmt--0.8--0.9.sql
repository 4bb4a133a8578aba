-- leadmgmt 0.8 -> 0.9, built from src/sql/parts: fn:assign_pending 99g_support_privileges

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.9'" to load this file. \quit

CREATE OR REPLACE FUNCTION @extschema@.assign_pending(org_id bigint, max_leads integer DEFAULT 1000, team_id bigint DEFAULT NULL,
                                          at timestamptz DEFAULT NULL)
RETURNS TABLE (lead_id bigint, rep_id bigint)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(assign_pending.org_id);
  t timestamptz := coalesce(assign_pending.at, now());
  r record;
  ids bigint[];
  tiers text;
  excluded bigint[];
  reps bigint[];
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  IF max_leads IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'max_leads must not be null';
  END IF;
  IF max_leads < 1 OR max_leads > 100000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('max_leads must be between 1 and 100000, not %s', max_leads);
  END IF;
  IF t IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'at must be finite';
  END IF;
  r := @extschema@.rep_roster(o, assign_pending.team_id, t);
  -- best first: tier A before D, higher score, then older; leads another
  -- transaction holds are skipped, not waited for
  WITH c AS MATERIALIZED (
    SELECT l.lead_id, coalesce(l.tier, 'D') AS tier,
           row_number() OVER (ORDER BY l.tier, l.score DESC NULLS LAST, l.created_at, l.lead_id) AS n
      FROM (SELECT x.lead_id, x.tier, x.score, x.created_at FROM @extschema@.lead x
             WHERE x.org_id = o.org_id AND x.pool = 'public' AND x.status NOT IN ('won', 'lost')
             ORDER BY x.tier, x.score DESC NULLS LAST, x.created_at, x.lead_id
             LIMIT max_leads FOR UPDATE SKIP LOCKED) l
  )
  SELECT array_agg(c.lead_id ORDER BY c.n), string_agg(c.tier, '' ORDER BY c.n),
         array_agg(@extschema@.cooling_rep(o, c.lead_id, t) ORDER BY c.n)
    INTO ids, tiers, excluded FROM c;
  IF ids IS NULL THEN
    RETURN;
  END IF;
  reps := @extschema@.assign_locked(o, ids, tiers, excluded, t,
            r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills);
  RETURN QUERY SELECT x.lead_id, x.rep_id FROM unnest(ids, reps) WITH ORDINALITY AS x(lead_id, rep_id, n)
                WHERE x.rep_id IS NOT NULL ORDER BY x.n;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_pending(bigint, integer, bigint, timestamptz) IS 'assigns up to max_leads open (not won or lost) public-pool leads in one call, best first (tier A to D, higher score, older), skipping leads locked by others; returns each lead assigned and its rep; leads no rep can take stay in the pool';


-- ---------------------------------------------------------------------------
-- Aggregate support functions are not for calling (0.9)
-- ---------------------------------------------------------------------------
-- The transition, combine and final functions of the schema's aggregates take
-- states that only the aggregates make; nobody needs to call them, so PUBLIC
-- may not, nor build aggregates of its own on them.  The aggregates still run
-- for everyone: PostgreSQL checks that the aggregate's owner may execute its
-- support functions, not the caller.  The state types' text and binary I/O
-- stays public (Citus moves partial states as text), and every state is
-- checked completely when it is read.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT DISTINCT s.fn::regprocedure
             FROM pg_catalog.pg_aggregate a
             JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
            CROSS JOIN LATERAL unnest(ARRAY[a.aggtransfn, a.aggcombinefn, a.aggfinalfn]::oid[]) AS s(fn)
            WHERE p.pronamespace = '@extschema@'::regnamespace AND s.fn <> 0
              AND (SELECT pronamespace FROM pg_catalog.pg_proc WHERE oid = s.fn) = '@extschema@'::regnamespace
            ORDER BY 1 LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$$;

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
