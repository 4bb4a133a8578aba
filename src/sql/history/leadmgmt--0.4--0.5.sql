-- leadmgmt 0.4 -> 0.5, built from src/sql/parts: sql:DROP FUNCTION @extschema@.eligible_reps(@extschema@.org, bigint, timestamptz); sql:DROP FUNCTION @extschema@.assign_locked(@extschema@.org, bigint[], text, bigint[], bigint, timestamptz); fn:acting_org_ids fn:my_rep_ids fn:sales_scope_org_ids fn:check_org_engine fn:rep_roster fn:assign_locked fn:cooling_rep fn:assign_lead fn:assign_pending

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.5'" to load this file. \quit

DROP FUNCTION @extschema@.eligible_reps(@extschema@.org, bigint, timestamptz);

DROP FUNCTION @extschema@.assign_locked(@extschema@.org, bigint[], text, bigint[], bigint, timestamptz);

CREATE OR REPLACE FUNCTION @extschema@.acting_org_ids(kinds text[]) RETURNS bigint[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chosen bigint := @extschema@.current_org();
BEGIN
  RETURN (SELECT coalesce(array_agg(DISTINCT g.org_id ORDER BY g.org_id), '{}')
            FROM @extschema@.access_grant g
            JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
           WHERE g.access = ANY (kinds)
             AND pg_catalog.pg_has_role(r.oid, 'USAGE')
             AND CASE WHEN chosen IS NULL THEN g.access <> 'app' ELSE g.org_id = chosen END);
END
$$;
COMMENT ON FUNCTION @extschema@.acting_org_ids(text[]) IS 'orgs the current role may act for with one of the given kinds of access; app access counts only for the org set in leadmgmt.org_id, and a set leadmgmt.org_id narrows every kind to that org';

CREATE OR REPLACE FUNCTION @extschema@.my_rep_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chosen bigint := @extschema@.current_org();
BEGIN
  RETURN (SELECT coalesce(array_agg(DISTINCT g.rep_id ORDER BY g.rep_id), '{}')
            FROM @extschema@.access_grant g
            JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
           WHERE g.access = 'sales'
             AND pg_catalog.pg_has_role(r.oid, 'USAGE')
             AND (chosen IS NULL OR g.org_id = chosen));
END
$$;
COMMENT ON FUNCTION @extschema@.my_rep_ids() IS 'sales reps the current role acts as';

CREATE OR REPLACE FUNCTION @extschema@.sales_scope_org_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(o ORDER BY o), '{}')
            FROM unnest(@extschema@.acting_org_ids('{sales}')) AS o
           WHERE o <> ALL (@extschema@.acting_org_ids('{reporting,app,admin}')));
END
$$;
COMMENT ON FUNCTION @extschema@.sales_scope_org_ids() IS 'orgs where the current role has only sales access, and so sees only its own leads and the public pool';

CREATE OR REPLACE FUNCTION @extschema@.check_org_engine(org_id bigint) RETURNS void
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper)
     AND NOT check_org_engine.org_id = ANY (@extschema@.acting_org_ids('{app,admin}')) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = format('permission denied to assign or recycle the leads of org %s', org_id),
      HINT = 'Assignment and recycling need app or admin access to the org; a sales rep claims and releases instead.';
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_org_engine(bigint) IS 'raises 42501 unless the current role has app or admin access to the org (or is a superuser): the right to run assignment and recycling';

CREATE OR REPLACE FUNCTION @extschema@.rep_roster(o @extschema@.org, team_id bigint, at timestamptz,
    OUT strategy text, OUT rep_ids bigint[], OUT weights integer[], OUT daily_caps integer[],
    OUT holding_caps integer[], OUT skills integer[])
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  local timestamp := at AT TIME ZONE o.timezone;
BEGIN
  strategy := o.assign_strategy;
  IF team_id IS NOT NULL THEN
    SELECT coalesce(tm.assign_strategy, strategy) INTO strategy FROM @extschema@.team tm
     WHERE tm.org_id = o.org_id AND tm.team_id = rep_roster.team_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown team %s in org %s', team_id, o.org_id);
    END IF;
  END IF;
  WITH pol AS MATERIALIZED (
    SELECT array_agg(tp.handler_role ORDER BY tp.tier) AS roles
      FROM @extschema@.effective_tier_policy tp WHERE tp.org_id = o.org_id
  )
  SELECT array_agg(r.rep_id ORDER BY r.rep_id), array_agg(r.weight ORDER BY r.rep_id),
         array_agg(r.daily_cap ORDER BY r.rep_id), array_agg(r.holding_cap ORDER BY r.rep_id),
         array_agg(('A' = ANY (r.tiers))::int + ('B' = ANY (r.tiers))::int * 2
                   + ('C' = ANY (r.tiers))::int * 4 + ('D' = ANY (r.tiers))::int * 8
                   + (r.role = pol.roles[1])::int * 16 + (r.role = pol.roles[2])::int * 32
                   + (r.role = pol.roles[3])::int * 64 + (r.role = pol.roles[4])::int * 128 ORDER BY r.rep_id)
    INTO rep_ids, weights, daily_caps, holding_caps, skills
    FROM @extschema@.sales_rep r CROSS JOIN pol
   WHERE r.org_id = o.org_id AND r.active
     AND (rep_roster.team_id IS NULL OR r.team_id = rep_roster.team_id)
     -- one scan of the org's shifts each (hashed), not one probe per rep
     AND (r.rep_id NOT IN (SELECT s.rep_id FROM @extschema@.rep_shift s WHERE s.org_id = o.org_id)
          OR r.rep_id IN (SELECT s.rep_id FROM @extschema@.rep_shift s
                           WHERE s.org_id = o.org_id AND s.weekday = extract(isodow FROM local)
                             AND local::time >= s.starts_at AND local::time < s.ends_at));
END
$$;
COMMENT ON FUNCTION @extschema@.rep_roster(@extschema@.org, bigint, timestamptz) IS 'the strategy (the team''s, else the org''s) and the reps that may get leads at a time: active, of the team if one is given, on shift in the org time zone (a rep without shifts always is), with weights, caps and tier skills as plan_assignments takes them (bit t: skilled for tier t; bit 4+t: the tier policy''s handler role)';

CREATE OR REPLACE FUNCTION @extschema@.assign_locked(o @extschema@.org, lead_ids bigint[], tiers text, excluded bigint[],
                                          at timestamptz, strategy text, rep_ids bigint[], weights integer[],
                                          daily_caps integer[], holding_caps integer[], skills integer[])
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  today date := (at AT TIME ZONE o.timezone)::date;
  e record;
  rot @extschema@.assign_rotation;
  p @extschema@.assignment_plan;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', o.org_id));
  -- the counters, read under the lock; pending open-lead changes are folded,
  -- and missing counters built, first when there are any.  A rep deleted
  -- since the roster was read drops out.
  FOR pass IN 1..2 LOOP
    SELECT array_agg(x.rep_id ORDER BY x.n) AS rep_ids, array_agg(x.weight ORDER BY x.n) AS weights,
           array_agg(l.open_leads ORDER BY x.n) AS open_leads,
           array_agg(least(x.daily_cap - CASE WHEN l.counted_day = today THEN l.assigned_today ELSE 0 END,
                           x.holding_cap - l.open_leads) ORDER BY x.n) AS room,
           array_agg(x.skills ORDER BY x.n) AS skills,
           count(l.rep_id) < count(*) AS missing,
           EXISTS (SELECT 1 FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id) AS pending,
           (SELECT ar FROM @extschema@.assign_rotation ar WHERE ar.org_id = o.org_id) AS rot
      INTO e
      FROM unnest(rep_ids, weights, daily_caps, holding_caps, skills) WITH ORDINALITY
             AS x(rep_id, weight, daily_cap, holding_cap, skills, n)
      LEFT JOIN @extschema@.rep_load l ON l.org_id = o.org_id AND l.rep_id = x.rep_id
     WHERE l.rep_id IS NOT NULL OR pass = 1;
    EXIT WHEN pass = 2 OR NOT (e.missing OR e.pending);
    PERFORM @extschema@.rep_load_sync(o, at);
  END LOOP;
  rot := e.rot;
  p := @extschema@.plan_assignments(strategy, coalesce(rot.rep_ids, '{}'), coalesce(rot.current_weights, '{}'),
         coalesce(rot.last_picks, '{}'), coalesce(rot.picks, 0),
         coalesce(e.rep_ids, '{}'), coalesce(e.weights, '{}'), coalesce(e.open_leads, '{}'),
         coalesce(e.room, '{}'), coalesce(e.skills, '{}'), tiers, excluded);
  IF p.picks = coalesce(rot.picks, 0) THEN
    RETURN p.lead_rep_ids;  -- nobody eligible: nothing changes
  END IF;
  IF rot.org_id IS NULL THEN  -- the org's first pick: the rotation row the update below moves
    INSERT INTO @extschema@.assign_rotation (org_id, rep_ids, current_weights, last_picks, picks)
    VALUES (o.org_id, '{}', '{}', '{}', 0);
  END IF;

  -- owners, history, counters and rotation in one statement; the engine
  -- counts its own open-lead changes, so the lead trigger stays quiet
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  WITH x AS (
    SELECT x.lead_id, x.rep_id, x.n FROM unnest(lead_ids, p.lead_rep_ids) WITH ORDINALITY AS x(lead_id, rep_id, n)
     WHERE x.rep_id IS NOT NULL
  ), owners AS (
    UPDATE @extschema@.lead l
       SET pool = 'private', owner_rep_id = x.rep_id, owned_since = at, updated_at = now()
      FROM x WHERE l.org_id = o.org_id AND l.lead_id = x.lead_id
  ), history AS (
    INSERT INTO @extschema@.assignment (org_id, lead_id, rep_id, assigned_at, reason)
    SELECT o.org_id, x.lead_id, x.rep_id, at, strategy FROM x ORDER BY x.n
  ), counters AS (
    UPDATE @extschema@.rep_load l
       SET open_leads = l.open_leads + t.taken,
           assigned_today = CASE WHEN l.counted_day = today THEN l.assigned_today ELSE 0 END + t.taken,
           claimed_today = CASE WHEN l.counted_day = today THEN l.claimed_today ELSE 0 END,
           counted_day = today, last_assigned_at = at
      FROM unnest(e.rep_ids, p.taken) AS t(rep_id, taken)
     WHERE l.org_id = o.org_id AND l.rep_id = t.rep_id AND t.taken > 0
  )
  UPDATE @extschema@.assign_rotation r
     SET rep_ids = p.state_rep_ids, current_weights = p.state_current, last_picks = p.state_last,
         picks = p.picks, updated_at = now()
   WHERE r.org_id = o.org_id;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
  RETURN p.lead_rep_ids;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_locked(@extschema@.org, bigint[], text, bigint[], timestamptz, text, bigint[], integer[], integer[], integer[], integer[]) IS 'engine step shared by assign_lead and assign_pending: takes the assignment lock, plans the given public leads (locked by the caller) against the roster''s reps (rep_roster) and their counters, and writes owners, history, counters and rotation; returns the rep of each lead';

CREATE OR REPLACE FUNCTION @extschema@.cooling_rep(o @extschema@.org, lead_id bigint, at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  RETURN (SELECT last.rep_id
            FROM (SELECT a.rep_id, a.released_at FROM @extschema@.assignment a
                   WHERE a.org_id = o.org_id AND a.lead_id = cooling_rep.lead_id
                   ORDER BY a.assigned_at DESC, a.assignment_id DESC LIMIT 1) last
           WHERE last.released_at > at - o.reclaim_cooldown);
END
$$;
COMMENT ON FUNCTION @extschema@.cooling_rep(@extschema@.org, bigint, timestamptz) IS 'the last owner of a lead if it lost the lead within the org''s reclaim_cooldown before the given time, else NULL';

CREATE OR REPLACE FUNCTION @extschema@.assign_lead(org_id bigint, lead_id bigint, team_id bigint DEFAULT NULL, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o @extschema@.org := @extschema@.ingest_org(assign_lead.org_id);
  t timestamptz := coalesce(assign_lead.at, now());
  l record;
  r record;
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  IF assign_lead.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'lead_id must not be null';
  END IF;
  IF t IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'at must be finite';
  END IF;
  -- the lead first, then the org lock: under the org lock nobody waits for a
  -- lead; what does not depend on the counters is read before the lock
  SELECT x.pool, x.owner_rep_id, coalesce(x.tier, 'D') AS tier INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = assign_lead.lead_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', assign_lead.lead_id, o.org_id);
  END IF;
  IF l.pool = 'private' THEN
    RETURN l.owner_rep_id;  -- already owned: assigning again changes nothing
  END IF;
  r := @extschema@.rep_roster(o, assign_lead.team_id, t);
  RETURN (@extschema@.assign_locked(o, ARRAY[assign_lead.lead_id], l.tier,
            ARRAY[@extschema@.cooling_rep(o, assign_lead.lead_id, t)], t,
            r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills))[1];
END
$$;
COMMENT ON FUNCTION @extschema@.assign_lead(bigint, bigint, bigint, timestamptz) IS 'assigns a public-pool lead to a rep by the org''s (or the team''s) strategy and returns the rep; NULL, leaving the lead in the public pool, when no rep is eligible; a lead already owned keeps its owner, who is returned';

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
             WHERE x.org_id = o.org_id AND x.pool = 'public'
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
COMMENT ON FUNCTION @extschema@.assign_pending(bigint, integer, bigint, timestamptz) IS 'assigns up to max_leads public-pool leads in one call, best first (tier A to D, higher score, older), skipping leads locked by others; returns each lead assigned and its rep; leads no rep can take stay in the pool';

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
