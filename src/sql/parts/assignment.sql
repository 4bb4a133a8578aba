
CREATE FUNCTION @extschema@.engine_assign(org_id bigint, today date, at timestamptz, synced boolean, strategy text,
    rep_ids bigint[], weights integer[], daily_caps integer[], holding_caps integer[], skills integer[],
    lead_tiers text, lead_excluded bigint[],
    OUT needs_sync boolean, OUT lead_rep_ids bigint[], OUT assigned integer)
RETURNS record
AS 'MODULE_PATHNAME', 'leadmgmt_engine_assign' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.engine_assign(bigint, date, timestamptz, boolean, text, bigint[], integer[], integer[], integer[], integer[], text, bigint[]) IS 'the decision: takes the org''s assignment lock, reads the rotation and counters (assign_rotation and rep_load plus every live assign_pick row), plans the leads for the roster''s reps as plan_assignments does, writes the journal row and releases the lock; returns each lead''s rep and how many got one.  Unless synced, first asks for a fold (needs_sync, keeping the lock until commit) when a rep lacks counters, open-lead changes wait, or 64 journal rows have settled';

CREATE FUNCTION @extschema@.engine_load(org_id bigint, today date, rep_id bigint,
    OUT open_leads integer, OUT assigned_today integer)
RETURNS record
AS 'MODULE_PATHNAME', 'leadmgmt_engine_load' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.engine_load(bigint, date, bigint) IS 'under the org''s assignment lock: a rep''s open leads and assignments on a day as the engine counts them (rep_load plus the picks of the journal, in flight or not); NULLs when the rep has no counters yet';

CREATE TYPE @extschema@.assignment_plan AS (
  lead_rep_ids     bigint[],
  state_rep_ids    bigint[],
  state_current    bigint[],
  state_last       bigint[],
  picks            bigint,
  taken            integer[]
);
COMMENT ON TYPE @extschema@.assignment_plan IS 'result of plan_assignments: the rep of each lead (NULL: none eligible), the new rotation state, and the leads each eligible rep took';

CREATE FUNCTION @extschema@.plan_assignments(strategy text,
    state_rep_ids bigint[], state_current bigint[], state_last bigint[], picks bigint,
    rep_ids bigint[], weights integer[], open_leads integer[], room integer[], skills integer[],
    lead_tiers text, lead_excluded bigint[])
RETURNS @extschema@.assignment_plan
AS 'MODULE_PATHNAME', 'leadmgmt_plan_assignments' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.plan_assignments(text, bigint[], bigint[], bigint[], bigint, bigint[], integer[], integer[], integer[], integer[], text, bigint[]) IS 'the selection core: gives each lead (tier letters in order, each with a rep it must not get) a rep among the eligible ones by smooth weighted round-robin or least busy, honouring room, tier skills (bit t) and preferred handlers (bit 4+t); pure, deterministic';

-- open-lead changes made outside the engine (the engine counts its own, with
-- leadmgmt.engine_update on around its updates): one row per change, never
-- waiting for a lock
CREATE FUNCTION @extschema@.rep_load_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.owner_rep_id IS NOT NULL AND OLD.status NOT IN ('won', 'lost') THEN
    INSERT INTO @extschema@.rep_load_change (org_id, rep_id, delta) VALUES (OLD.org_id, OLD.owner_rep_id, -1);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.owner_rep_id IS NOT NULL AND NEW.status NOT IN ('won', 'lost') THEN
    INSERT INTO @extschema@.rep_load_change (org_id, rep_id, delta) VALUES (NEW.org_id, NEW.owner_rep_id, 1);
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.rep_load_track() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.rep_load_track() IS 'trigger: records each change of a rep''s open leads (owner or won/lost status changed) in rep_load_change';

-- under the assignment lock: fold the settled picks of the journal into the
-- rotation and the counters, build the rows of reps that have none by
-- counting, then fold the pending open-lead changes into the others
-- On Citus the fold's modifying CTEs run as subplans, which Citus allows in
-- a delegated call only with citus.allow_nested_distributed_execution: they
-- touch only the org's shards, all on the node the call runs on.  Their
-- snapshots then differ between the journal's DELETE and the count of a new
-- rep's leads, which is harmless because the engine never picks a rep
-- without counters (it asks for this fold first), so no pick of such a rep
-- can commit in between.  (A placeholder setting where Citus is absent.)
CREATE FUNCTION @extschema@.rep_load_sync(o record, at timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
BEGIN
  -- Every table is filtered by o.org_id itself, not through a join, so that
  -- Citus routes each statement to the org's shards.
  -- journal rows this snapshot sees (settled, or this transaction's) and
  -- reps without a row (new, or after a restore) in one statement: the
  -- picks it folds are exactly those whose leads it counts for the new rows.
  -- Picks still in flight stay in the journal.
  IF EXISTS (SELECT 1 FROM @extschema@.assign_pick p WHERE p.org_id = o.org_id)
     OR EXISTS (SELECT 1 FROM @extschema@.sales_rep r WHERE r.org_id = o.org_id
                   AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = o.org_id AND z.rep_id = r.rep_id)) THEN
    WITH picks AS (
      DELETE FROM @extschema@.assign_pick p WHERE p.org_id = o.org_id
      RETURNING p.pick_no, p.day, p.at, p.rep_ids, p.current_delta, p.last_picks, p.taken
    ), part AS (
      SELECT u.rep_id, u.cur, u.last, u.taken, k.day, k.at
        FROM picks k, unnest(k.rep_ids, k.current_delta, k.last_picks, k.taken) AS u(rep_id, cur, last, taken)
    ), per_day AS (
      SELECT part.rep_id, part.day, sum(part.taken)::integer AS taken, max(part.at) AS last_at
        FROM part WHERE part.taken > 0 GROUP BY part.rep_id, part.day
    ), per_rep AS (
      SELECT d.rep_id, sum(d.taken)::integer AS taken, max(d.day) AS day,
             (array_agg(d.taken ORDER BY d.day DESC))[1] AS taken_on_day, max(d.last_at) AS last_at
        FROM per_day d GROUP BY d.rep_id
    ), rotation AS (
      -- every column, in the table's order: Citus 13 deparses the column list
      -- of an INSERT in a CTE in table order without reordering the values
      INSERT INTO @extschema@.assign_rotation AS r (org_id, rep_ids, current_weights, last_picks, picks, updated_at)
      SELECT o.org_id, array_agg(m.rep_id ORDER BY m.rep_id), array_agg(m.cur ORDER BY m.rep_id),
             array_agg(m.last ORDER BY m.rep_id),
             greatest((SELECT max(k.pick_no) FROM picks k),
                      (SELECT ar.picks FROM @extschema@.assign_rotation ar WHERE ar.org_id = o.org_id)),
             now()
        FROM (SELECT coalesce(b.rep_id, d.rep_id) AS rep_id, coalesce(b.cur, 0) + coalesce(d.cur, 0) AS cur,
                     greatest(b.last, d.last, 0) AS last
                FROM (SELECT u.rep_id, u.cur, u.last FROM @extschema@.assign_rotation ar,
                             unnest(ar.rep_ids, ar.current_weights, ar.last_picks) AS u(rep_id, cur, last)
                       WHERE ar.org_id = o.org_id) b
                FULL JOIN (SELECT part.rep_id, sum(part.cur) AS cur, max(part.last) AS last
                             FROM part GROUP BY part.rep_id) d ON d.rep_id = b.rep_id) m
      HAVING EXISTS (SELECT 1 FROM picks)
      ON CONFLICT (org_id) DO UPDATE
        SET rep_ids = excluded.rep_ids, current_weights = excluded.current_weights,
            last_picks = excluded.last_picks, picks = excluded.picks, updated_at = excluded.updated_at
    ), counters AS (
      UPDATE @extschema@.rep_load l
         SET open_leads = l.open_leads + s.taken,
             assigned_today = CASE WHEN s.day > l.counted_day THEN s.taken_on_day
                                   WHEN s.day = l.counted_day THEN l.assigned_today + s.taken_on_day
                                   ELSE l.assigned_today END,
             claimed_today = CASE WHEN s.day > l.counted_day THEN 0 ELSE l.claimed_today END,
             counted_day = greatest(l.counted_day, s.day),
             last_assigned_at = greatest(l.last_assigned_at, s.last_at)
        FROM per_rep s WHERE l.org_id = o.org_id AND l.rep_id = s.rep_id
    ), gone AS (
      -- the changes of reps without a row: the count below includes them
      DELETE FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id
         AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = o.org_id AND z.rep_id = c.rep_id)
    )
    INSERT INTO @extschema@.rep_load AS l (org_id, rep_id, open_leads, counted_day, assigned_today, claimed_today, last_assigned_at)
    SELECT r.org_id, r.rep_id,
           (SELECT count(*) FROM @extschema@.lead x
             WHERE x.org_id = o.org_id AND x.owner_rep_id = r.rep_id AND x.status NOT IN ('won', 'lost')),
           t.today, coalesce(a.assigned, 0), coalesce(a.claimed, 0), a.last_at
      -- the reps without a row first (OFFSET 0 keeps the planner from
      -- counting the assignments of every rep before it filters)
      FROM (SELECT r.org_id, r.rep_id FROM @extschema@.sales_rep r
             WHERE r.org_id = o.org_id
               AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = o.org_id AND z.rep_id = r.rep_id)
            OFFSET 0) r
      CROSS JOIN (SELECT (at AT TIME ZONE o.timezone)::date AS today) t
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE y.reason IN ('round_robin', 'least_busy')
                                  AND y.assigned_at >= t.today::timestamp AT TIME ZONE o.timezone) AS assigned,
               count(*) FILTER (WHERE y.reason = 'claim'
                                  AND y.assigned_at >= t.today::timestamp AT TIME ZONE o.timezone) AS claimed,
               max(y.assigned_at) AS last_at
          FROM @extschema@.assignment y WHERE y.org_id = o.org_id AND y.rep_id = r.rep_id) a ON true;
  END IF;
  -- changes made outside the engine since the last call
  IF EXISTS (SELECT 1 FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id) THEN
    WITH d AS (
      DELETE FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id RETURNING c.rep_id, c.delta
    )
    UPDATE @extschema@.rep_load l SET open_leads = greatest(l.open_leads + s.delta, 0)
      FROM (SELECT d.rep_id, sum(d.delta)::integer AS delta FROM d GROUP BY d.rep_id) s
     WHERE l.org_id = o.org_id AND l.rep_id = s.rep_id;
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.rep_load_sync(record, timestamptz) IS 'under the assignment lock, which the caller then keeps until commit: folds the settled assign_pick rows into assign_rotation and rep_load, builds missing rep_load rows from lead and assignment, and folds rep_load_change';

-- who calls a SECURITY DEFINER function: the role set with SET ROLE, else the session user
CREATE FUNCTION @extschema@.check_rep_access(org_id bigint, rep_id bigint) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  caller name := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = caller AND rolsuper) THEN
    RETURN;
  END IF;
  -- the caller's grants from its group role memberships (access.c), as the
  -- policies read them: no table read (since 0.11).  A NULL org or rep
  -- grants nothing.
  IF NOT coalesce(check_rep_access.org_id = ANY (@extschema@.caller_org_ids('{app,admin}'))
                  OR (check_rep_access.org_id = ANY (@extschema@.caller_org_ids('{sales}'))
                      AND check_rep_access.rep_id = ANY (@extschema@.caller_rep_ids())), false) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = format('permission denied to act for rep %s in org %s', rep_id, org_id),
      HINT = 'A sales role acts only for its own rep; app and admin roles for any rep of their org.';
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_rep_access(bigint, bigint) IS 'raises 42501 unless the caller (the SET ROLE role, else the session user) has app or admin access to the org, or sales access as that rep';

-- what every call a rep makes checks first: the caller may act as the rep,
-- and the org exists
CREATE FUNCTION @extschema@.rep_org(org_id bigint, rep_id bigint) RETURNS record
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM @extschema@.check_rep_access(rep_org.org_id, rep_org.rep_id);
  RETURN @extschema@.ingest_org(rep_org.org_id);
END
$$;
COMMENT ON FUNCTION @extschema@.rep_org(bigint, bigint) IS 'the org of a call made for a rep: raises 42501 unless the caller may act as the rep (check_rep_access), 22004 or 23503 unless the org exists (ingest_org)';

-- the org-wide engine calls (assign_lead, assign_pending, recycle_stale) are for app and admin roles
-- C since 0.8: a superuser passes without a query
CREATE FUNCTION @extschema@.check_org_engine(org_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'leadmgmt_check_org_engine' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_org_engine(bigint) IS 'raises 42501 unless the current role has app or admin access to the org (or is a superuser): the right to run assignment and recycling; on a Citus node that does not hold the org''s shards raises 0A000 (since 0.13): the engine runs where the org is, in a call Citus delegates';

-- the strategy (the team's, else the org's) and the reps that may get leads
-- at a time, as far as neither depends on the counters: read before the
-- decision.  C since 0.8: as SQL it cost more than the decision (its plan set
-- up and its tables locked in every transaction); regress 12 checks it
-- against the SQL it replaces.
CREATE FUNCTION @extschema@.rep_roster(o record, team_id bigint, at timestamptz,
    OUT strategy text, OUT rep_ids bigint[], OUT weights integer[], OUT daily_caps integer[],
    OUT holding_caps integer[], OUT skills integer[])
AS 'MODULE_PATHNAME', 'leadmgmt_rep_roster' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rep_roster(record, bigint, timestamptz) IS 'the strategy (the team''s, else the org''s) and the reps that may get leads at a time: active, of the team if one is given, on shift in the org time zone (a rep without shifts always is), not on leave that local day (rep_leave, since 0.16), with weights, caps and tier skills as plan_assignments takes them (bit t: skilled for tier t; bit 4+t: the tier policy''s handler role)';

-- assigns leads already locked by the caller, all in the public pool, among
-- the reps of a roster: the decision (engine_assign, in C) takes the
-- assignment lock, plans against the state, writes the journal row and,
-- unless it had to fold first, releases the lock; then owners and history
-- are written in one statement while the next call decides.  Generic plans:
-- one plan suits any batch size.
CREATE FUNCTION @extschema@.assign_locked(o record, lead_ids bigint[], tiers text, excluded bigint[],
                                          at timestamptz, strategy text, rep_ids bigint[], weights integer[],
                                          daily_caps integer[], holding_caps integer[], skills integer[])
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  today date := (at AT TIME ZONE o.timezone)::date;
  p record;
BEGIN
  p := @extschema@.engine_assign(o.org_id, today, at, false, strategy, coalesce(rep_ids, '{}'), coalesce(weights, '{}'),
         coalesce(daily_caps, '{}'), coalesce(holding_caps, '{}'), coalesce(skills, '{}'), tiers, excluded);
  IF p.needs_sync THEN
    -- it kept the lock: a fold changes the base, so this call holds it until commit
    PERFORM @extschema@.rep_load_sync(o, at);
    p := @extschema@.engine_assign(o.org_id, today, at, true, strategy, coalesce(rep_ids, '{}'), coalesce(weights, '{}'),
           coalesce(daily_caps, '{}'), coalesce(holding_caps, '{}'), coalesce(skills, '{}'), tiers, excluded);
  END IF;
  IF p.assigned = 0 THEN
    RETURN p.lead_rep_ids;  -- nobody eligible: nothing changes
  END IF;

  -- owners and history in one statement; the engine counts its own
  -- open-lead changes (in the journal), so the lead trigger stays quiet
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  WITH x AS (
    SELECT x.lead_id, x.rep_id, x.n FROM unnest(lead_ids, p.lead_rep_ids) WITH ORDINALITY AS x(lead_id, rep_id, n)
     WHERE x.rep_id IS NOT NULL
  ), owners AS (
    UPDATE @extschema@.lead l
       SET pool = 'private', owner_rep_id = x.rep_id, owned_since = at, updated_at = now()
      FROM x WHERE l.org_id = o.org_id AND l.lead_id = x.lead_id
  )
  INSERT INTO @extschema@.assignment (org_id, lead_id, rep_id, assigned_at, reason)
  SELECT o.org_id, x.lead_id, x.rep_id, at, strategy FROM x ORDER BY x.n;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
  RETURN p.lead_rep_ids;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_locked(record, bigint[], text, bigint[], timestamptz, text, bigint[], integer[], integer[], integer[], integer[]) IS 'engine step shared by assign_lead and assign_pending: decides for the given public leads (locked by the caller) among the roster''s reps (rep_roster) with engine_assign, folding first when it asks, and writes owners and history; returns the rep of each lead';

-- the rep a lead may not get back yet: the last owner, released within the cool-down
CREATE FUNCTION @extschema@.cooling_rep(o record, lead_id bigint, at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN (SELECT last.rep_id
            FROM (SELECT a.rep_id, a.released_at FROM @extschema@.assignment a
                   WHERE a.org_id = o.org_id AND a.lead_id = cooling_rep.lead_id
                   ORDER BY a.assigned_at DESC, a.assignment_id DESC LIMIT 1) last
           WHERE last.released_at > at - o.reclaim_cooldown);
END
$$;
COMMENT ON FUNCTION @extschema@.cooling_rep(record, bigint, timestamptz) IS 'the last owner of a lead if it lost the lead within the org''s reclaim_cooldown before the given time, else NULL';

CREATE FUNCTION @extschema@.assign_lead(org_id bigint, lead_id bigint, team_id bigint DEFAULT NULL, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(assign_lead.org_id);
  t timestamptz;
  l record;
  r record;
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  IF assign_lead.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'lead_id must not be null';
  END IF;
  -- the server's clock unless a trusted caller passes one (since 0.15)
  t := @extschema@.rule_time(o, assign_lead.at, 'at');
  -- the lead first, then the org lock: under the org lock nobody waits for a
  -- lead; what does not depend on the counters is read before the lock
  SELECT x.pool, x.owner_rep_id, coalesce(x.tier, 'D') AS tier, x.routing_arm INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = assign_lead.lead_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', assign_lead.lead_id, o.org_id);
  END IF;
  IF l.pool = 'private' THEN
    RETURN l.owner_rep_id;  -- already owned: assigning again changes nothing
  END IF;
  r := @extschema@.rep_roster(o, assign_lead.team_id, t);
  -- a holdout lead, or routing by expected value, may route by another tier (since 0.17)
  IF l.routing_arm = 'holdout' OR o.routing = 'expected_value' THEN
    l.tier := @extschema@.route_letters(o, ARRAY[assign_lead.lead_id], l.tier, t);
  END IF;
  RETURN (@extschema@.assign_locked(o, ARRAY[assign_lead.lead_id], l.tier,
            ARRAY[@extschema@.cooling_rep(o, assign_lead.lead_id, t)], t,
            r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills))[1];
END
$$;
COMMENT ON FUNCTION @extschema@.assign_lead(bigint, bigint, bigint, timestamptz) IS 'assigns a public-pool lead to a rep by the org''s (or the team''s) strategy and returns the rep; NULL, leaving the lead in the public pool, when no rep is eligible; a lead already owned keeps its owner, who is returned';

CREATE FUNCTION @extschema@.assign_pending(org_id bigint, max_leads integer DEFAULT 1000, team_id bigint DEFAULT NULL,
                                          at timestamptz DEFAULT NULL)
RETURNS TABLE (lead_id bigint, rep_id bigint)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(assign_pending.org_id);
  t timestamptz;
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
  -- the server's clock unless a trusted caller passes one (since 0.15)
  t := @extschema@.rule_time(o, assign_pending.at, 'at');
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
  SELECT array_agg(c.lead_id ORDER BY c.n), string_agg(c.tier, '' ORDER BY c.n)
    INTO ids, tiers FROM c;
  IF ids IS NULL THEN
    RETURN;
  END IF;
  -- holdout leads and routing by expected value may route by other tiers (since 0.17)
  IF o.holdout_share > 0 OR o.routing = 'expected_value' THEN
    tiers := @extschema@.route_letters(o, ids, tiers, t);
  END IF;
  -- each lead's last owner while its cool-down runs (what cooling_rep gives
  -- for one lead), in one query: no function reading a table per row, which
  -- Citus cannot run inside a query on a shard (since 0.11)
  SELECT array_agg(k.rep_id ORDER BY u.n) INTO excluded
    FROM unnest(ids) WITH ORDINALITY AS u(lead_id, n)
    LEFT JOIN (SELECT DISTINCT ON (a.lead_id) a.lead_id, a.rep_id, a.released_at
                 FROM @extschema@.assignment a
                WHERE a.org_id = o.org_id AND a.lead_id = ANY (ids)
                ORDER BY a.lead_id, a.assigned_at DESC, a.assignment_id DESC) k
      ON k.lead_id = u.lead_id AND k.released_at > t - o.reclaim_cooldown;
  reps := @extschema@.assign_locked(o, ids, tiers, excluded, t,
            r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills);
  RETURN QUERY SELECT x.lead_id, x.rep_id FROM unnest(ids, reps) WITH ORDINALITY AS x(lead_id, rep_id, n)
                WHERE x.rep_id IS NOT NULL ORDER BY x.n;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_pending(bigint, integer, bigint, timestamptz) IS 'assigns up to max_leads open (not won or lost) public-pool leads in one call, best first (tier A to D, higher score, older), skipping leads locked by others; returns each lead assigned and its rep; leads no rep can take stay in the pool';

CREATE FUNCTION @extschema@.claim_lead(org_id bigint, lead_id bigint, rep_id bigint, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz;
  o record;
  r record;
  l record;
  ld record;
  open_now integer;
  today date;
  cooling bigint;
  last_release timestamptz;
  claimed integer;
  new_id bigint;
BEGIN
  IF claim_lead.org_id IS NULL OR claim_lead.lead_id IS NULL OR claim_lead.rep_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id, lead_id and rep_id must not be null';
  END IF;
  o := @extschema@.rep_org(claim_lead.org_id, claim_lead.rep_id);
  -- the server's clock for a sales rep, whose cool-down and caps it decides
  -- (since 0.15; a rep chose it before)
  t := @extschema@.rule_time(o, claim_lead.at, 'at');
  today := (t AT TIME ZONE o.timezone)::date;
  SELECT * INTO r FROM @extschema@.sales_rep x WHERE x.org_id = o.org_id AND x.rep_id = claim_lead.rep_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown sales rep %s in org %s', claim_lead.rep_id, o.org_id);
  END IF;
  IF NOT r.active THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('rep %s is inactive and cannot claim leads', r.rep_id);
  END IF;
  SELECT x.pool, x.owner_rep_id, coalesce(x.tier, 'D') AS tier, x.status INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = claim_lead.lead_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', claim_lead.lead_id, o.org_id);
  END IF;
  IF l.pool <> 'public' THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is not in the public pool', claim_lead.lead_id),
      DETAIL = CASE WHEN l.owner_rep_id = r.rep_id THEN format('Rep %s owns it already.', r.rep_id)
                    ELSE format('It is in the private pool of rep %s (撞单 protection).', l.owner_rep_id) END;
  END IF;
  IF NOT l.tier = ANY (r.tiers) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('rep %s does not take tier %s leads', r.rep_id, l.tier),
      HINT = format('The rep takes tiers %s (sales_rep.tiers).', array_to_string(r.tiers, ', '));
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', o.org_id));
  cooling := @extschema@.cooling_rep(o, claim_lead.lead_id, t);
  IF cooling = r.rep_id THEN
    SELECT max(a.released_at) INTO last_release FROM @extschema@.assignment a
     WHERE a.org_id = o.org_id AND a.lead_id = claim_lead.lead_id AND a.rep_id = r.rep_id;
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('rep %s lost lead %s less than %s ago and may not claim it back yet', r.rep_id, claim_lead.lead_id, o.reclaim_cooldown),
      DETAIL = format('Released at %s; the cool-down ends at %s.', last_release, last_release + o.reclaim_cooldown),
      HINT = 'The cool-down is org.reclaim_cooldown.';
  END IF;
  PERFORM @extschema@.rep_load_sync(o, t);
  SELECT * INTO ld FROM @extschema@.rep_load x WHERE x.org_id = o.org_id AND x.rep_id = r.rep_id;
  -- open leads with the assignments still in flight
  open_now := (@extschema@.engine_load(o.org_id, today, r.rep_id)).open_leads;
  IF open_now >= r.holding_cap THEN
    RAISE EXCEPTION USING ERRCODE = '53400',
      MESSAGE = format('rep %s holds %s open leads, its holding cap', r.rep_id, open_now),
      HINT = 'Release a lead, or raise sales_rep.holding_cap.';
  END IF;
  claimed := CASE WHEN ld.counted_day = today THEN ld.claimed_today ELSE 0 END;
  IF claimed >= r.daily_claim_cap THEN
    RAISE EXCEPTION USING ERRCODE = '53400',
      MESSAGE = format('rep %s has claimed %s leads today, its daily claim cap', r.rep_id, claimed),
      HINT = 'Claim again tomorrow, or raise sales_rep.daily_claim_cap.';
  END IF;
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  UPDATE @extschema@.lead x SET pool = 'private', owner_rep_id = r.rep_id, owned_since = t, updated_at = now()
   WHERE x.org_id = o.org_id AND x.lead_id = claim_lead.lead_id;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
  INSERT INTO @extschema@.assignment (org_id, lead_id, rep_id, assigned_at, reason)
  VALUES (o.org_id, claim_lead.lead_id, r.rep_id, t, 'claim') RETURNING assignment_id INTO new_id;
  UPDATE @extschema@.rep_load x
     SET open_leads = x.open_leads + (l.status NOT IN ('won', 'lost'))::int,
         claimed_today = claimed + 1,
         assigned_today = CASE WHEN x.counted_day = today THEN x.assigned_today ELSE 0 END,
         counted_day = today, last_assigned_at = t
   WHERE x.org_id = o.org_id AND x.rep_id = r.rep_id;
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claim_lead(bigint, bigint, bigint, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claim_lead(bigint, bigint, bigint, timestamptz) IS 'a rep claims a public-pool lead into its private pool; refused with its own error when the lead is owned (55000), the rep is inactive or not skilled for the tier (55000), lost the lead within the cool-down (55000), or is at its holding cap or daily claim cap (53400); returns the assignment id';

CREATE FUNCTION @extschema@.release_lead(org_id bigint, lead_id bigint, rep_id bigint DEFAULT NULL, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz;
  o record;
  l record;
BEGIN
  IF release_lead.org_id IS NULL OR release_lead.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id and lead_id must not be null';
  END IF;
  IF release_lead.rep_id IS NOT NULL THEN
    PERFORM @extschema@.check_rep_access(release_lead.org_id, release_lead.rep_id);
  END IF;
  SELECT x.pool, x.owner_rep_id, x.status INTO l
    FROM @extschema@.lead x WHERE x.org_id = release_lead.org_id AND x.lead_id = release_lead.lead_id FOR UPDATE;
  -- the caller's right first (since 0.14): whether the lead exists, is
  -- pooled and whose it is, only a caller who may act for its owner learns
  PERFORM @extschema@.check_rep_access(release_lead.org_id, l.owner_rep_id);
  IF l.pool IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', release_lead.lead_id, release_lead.org_id);
  END IF;
  -- the server's clock for a sales rep (since 0.15)
  o := @extschema@.ingest_org(release_lead.org_id);
  t := @extschema@.rule_time(o, release_lead.at, 'at');
  IF l.pool = 'public' THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('lead %s is already in the public pool', release_lead.lead_id);
  END IF;
  IF release_lead.rep_id IS NOT NULL AND l.owner_rep_id <> release_lead.rep_id THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is owned by rep %s, not rep %s', release_lead.lead_id, l.owner_rep_id, release_lead.rep_id);
  END IF;
  PERFORM @extschema@.unassign_locked(o, release_lead.lead_id, l.owner_rep_id, l.status, t, 'release');
  RETURN l.owner_rep_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.release_lead(bigint, bigint, bigint, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.release_lead(bigint, bigint, bigint, timestamptz) IS 'puts an owned lead back in the public pool and closes its assignment with reason release; a sales role releases only its own leads; returns the previous owner';

CREATE FUNCTION @extschema@.log_follow_up(org_id bigint, lead_id bigint, rep_id bigint, channel text, outcome text,
                                         cost numeric DEFAULT NULL, occurred_at timestamptz DEFAULT NULL,
                                         duration_s integer DEFAULT NULL, note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz;
  o record;
  l record;
  c numeric(14,2);
  new_id bigint;
BEGIN
  IF log_follow_up.org_id IS NULL OR log_follow_up.lead_id IS NULL OR log_follow_up.rep_id IS NULL
     OR log_follow_up.channel IS NULL OR log_follow_up.outcome IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id, lead_id, rep_id, channel and outcome must not be null';
  END IF;
  o := @extschema@.rep_org(log_follow_up.org_id, log_follow_up.rep_id);
  PERFORM @extschema@.check_one_of(log_follow_up.channel, @extschema@.follow_up_channels(), 'follow-up channel', 'channels');
  PERFORM @extschema@.check_one_of(log_follow_up.outcome, @extschema@.follow_up_outcomes(), 'follow-up outcome', 'outcomes');
  PERFORM @extschema@.check_length(log_follow_up.note, 'note', 4000);
  IF log_follow_up.cost < 0 OR log_follow_up.cost = 'NaN' OR log_follow_up.duration_s < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'cost and duration_s must not be negative';
  END IF;
  -- a sales rep's follow-up happens now; an app may pass its time within
  -- the org's window (since 0.15)
  t := @extschema@.rule_time(o, log_follow_up.occurred_at, 'occurred_at');
  PERFORM @extschema@.ingest_check_time(o, t, 'occurred_at');
  SELECT x.owner_rep_id, coalesce(x.tier, 'D') AS tier, x.status, x.owned_since INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = log_follow_up.lead_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', log_follow_up.lead_id, o.org_id);
  END IF;
  IF l.owner_rep_id IS DISTINCT FROM log_follow_up.rep_id THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is not owned by rep %s', log_follow_up.lead_id, log_follow_up.rep_id),
      HINT = 'A rep follows up its own leads; claim the lead or have it assigned first.';
  END IF;
  c := coalesce(log_follow_up.cost, (SELECT p.cost_per_contact FROM @extschema@.effective_tier_policy p
                                      WHERE p.org_id = o.org_id AND p.tier = l.tier));
  INSERT INTO @extschema@.follow_up (org_id, lead_id, rep_id, channel, outcome, cost, duration_s, occurred_at, note)
  VALUES (o.org_id, log_follow_up.lead_id, log_follow_up.rep_id, log_follow_up.channel, log_follow_up.outcome,
          c, log_follow_up.duration_s, t, log_follow_up.note)
  RETURNING follow_up_id INTO new_id;
  IF l.status = 'new' THEN
    PERFORM @extschema@.lead_move(o.org_id, log_follow_up.lead_id, '{new}', 'contacting', t, format('follow-up %s', new_id));
  END IF;
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.log_follow_up(bigint, bigint, bigint, text, text, numeric, timestamptz, integer, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.log_follow_up(bigint, bigint, bigint, text, text, numeric, timestamptz, integer, text) IS 'records a call, SMS, WeChat or other contact of a rep with a lead it owns, with its outcome and cost (default: the tier policy''s cost per contact); a new lead becomes contacting; returns the follow-up id';

-- when each owned lead falls due for recycling, and why
CREATE FUNCTION @extschema@.recycle_due(org_id bigint)
RETURNS TABLE (lead_id bigint, rep_id bigint, tier char(1), owned_since timestamptz, first_follow_up_at timestamptz,
               follow_up_due_at timestamptz, deal_due_at timestamptz, recycle_at timestamptz, reason text)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
-- the org's rows of the view recycle_schedule (since 0.12; PL/pgSQL since
-- 0.11: Citus cannot plan the query of an SQL function with parameters)
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT s.lead_id, s.rep_id, s.tier, s.owned_since, s.first_follow_up_at, s.follow_up_due_at, s.deal_due_at,
         s.recycle_at, s.reason
    FROM @extschema@.recycle_schedule s
   WHERE s.org_id = recycle_due.org_id;
END
$$;
COMMENT ON FUNCTION @extschema@.recycle_due(bigint) IS 'every owned open lead of an org with the time it falls due for recycling: its tier''s follow-up SLA after it was taken while the owner has not followed up, else the org''s recycle_no_deal_after';

-- On Citus the modifying CTEs below run as subplans, each with its own
-- snapshot, which Citus allows in a delegated call only with
-- citus.allow_nested_distributed_execution; they touch only the org's shards
-- on this node, under the org's assignment lock, on leads locked by the first
-- (FOR UPDATE), and the counters' UPDATE reads the latest row anyway.
CREATE FUNCTION @extschema@.recycle_stale(org_id bigint, at timestamptz DEFAULT NULL)
RETURNS TABLE (lead_id bigint, previous_rep_id bigint, reason text)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(recycle_stale.org_id);
  t timestamptz;
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  -- the server's clock unless a trusted caller passes one (since 0.15)
  t := @extschema@.rule_time(o, recycle_stale.at, 'at');
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', o.org_id));
  PERFORM @extschema@.rep_load_sync(o, t);
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  RETURN QUERY
  WITH due AS MATERIALIZED (
    SELECT d.lead_id, d.rep_id, d.reason
      FROM @extschema@.recycle_due(o.org_id) d
      JOIN LATERAL (SELECT 1 FROM @extschema@.lead l
                     WHERE l.org_id = o.org_id AND l.lead_id = d.lead_id AND l.owner_rep_id = d.rep_id
                     FOR UPDATE SKIP LOCKED) locked ON true
     WHERE d.recycle_at <= t
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
