-- leadmgmt 0.6 -> 0.7, built from src/sql/parts: 99f_assign_journal fn:rep_load_sync fn:assign_locked fn:claim_lead fn:release_lead

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.7'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The pick journal: the assignment lock no longer spans commit (since 0.7).
--
-- Until 0.6 every assignment wrote the rotation and the counters under the
-- org's assignment lock, which it held until commit, so decisions, writes and
-- commits of one org ran one after another.  Now a call that only assigns
-- takes the lock, reads the state, plans, writes one journal row and
-- releases the lock, all in C (engine_assign); owners and history are written
-- after that, while the next call decides.  The next decision reads the
-- journal with a dirty snapshot: the picks of transactions still in flight
-- count at once, and those of a transaction that rolls back (or whose
-- backend is killed) vanish with it, as if they had never been made.
-- rep_load_sync folds the settled rows into assign_rotation and rep_load;
-- the calls that change those (a fold, claim, release, recycle) still keep
-- the lock until commit, so nothing in them is ever in flight under it.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.assign_pick (
  org_id         bigint NOT NULL,
  pick_no        bigint NOT NULL CHECK (pick_no > 0),
  day            date NOT NULL,
  at             timestamptz NOT NULL,
  rep_ids        bigint[] NOT NULL,
  current_delta  bigint[] NOT NULL,
  last_picks     bigint[] NOT NULL,
  taken          integer[] NOT NULL,
  PRIMARY KEY (org_id, pick_no),
  CHECK (cardinality(rep_ids) = cardinality(current_delta) AND cardinality(rep_ids) = cardinality(last_picks)
         AND cardinality(rep_ids) = cardinality(taken))
) WITH (autovacuum_vacuum_threshold = 200, autovacuum_vacuum_scale_factor = 0);
COMMENT ON TABLE @extschema@.assign_pick IS 'engine state, not dumped: the pick journal, one row per assign_lead or assign_pending call since the last fold; the engine reads it with a dirty snapshot, so picks in flight count and rolled-back ones vanish; rep_load_sync folds settled rows into assign_rotation and rep_load (no foreign key: its rows live for seconds, and a key check would lock the org row in every call)';
COMMENT ON COLUMN @extschema@.assign_pick.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assign_pick.pick_no IS 'the rotation''s pick count after this call''s picks';
COMMENT ON COLUMN @extschema@.assign_pick.day IS 'day (org time zone) the picks count for in the daily caps';
COMMENT ON COLUMN @extschema@.assign_pick.at IS 'assignment time of the call';
COMMENT ON COLUMN @extschema@.assign_pick.rep_ids IS 'reps whose rotation or counters the call moved, ascending';
COMMENT ON COLUMN @extschema@.assign_pick.current_delta IS 'change of each rep''s current weight (smooth round-robin)';
COMMENT ON COLUMN @extschema@.assign_pick.last_picks IS 'number of the call''s last pick of each rep (0: not picked)';
COMMENT ON COLUMN @extschema@.assign_pick.taken IS 'leads each rep took in the call';

ALTER TABLE @extschema@.assign_pick ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON @extschema@.assign_pick FOR SELECT
  USING (org_id = ANY ((SELECT @extschema@.acting_org_ids('{reporting,app,admin,sales}'))::bigint[]));
CREATE POLICY tenant_write ON @extschema@.assign_pick FOR ALL
  USING (org_id = ANY ((SELECT @extschema@.acting_org_ids('{app,admin}'))::bigint[]))
  WITH CHECK (org_id = ANY ((SELECT @extschema@.acting_org_ids('{app,admin}'))::bigint[]));

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

CREATE OR REPLACE FUNCTION @extschema@.rep_load_sync(o @extschema@.org, at timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  -- journal rows this snapshot sees (settled, or this transaction's) and
  -- reps without a row (new, or after a restore) in one statement: the
  -- picks it folds are exactly those whose leads it counts for the new rows.
  -- Picks still in flight stay in the journal.
  IF EXISTS (SELECT 1 FROM @extschema@.assign_pick p WHERE p.org_id = o.org_id)
     OR EXISTS (SELECT 1 FROM @extschema@.sales_rep r WHERE r.org_id = o.org_id
                   AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = r.org_id AND z.rep_id = r.rep_id)) THEN
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
      INSERT INTO @extschema@.assign_rotation AS r (org_id, rep_ids, current_weights, last_picks, picks)
      SELECT o.org_id, array_agg(m.rep_id ORDER BY m.rep_id), array_agg(m.cur ORDER BY m.rep_id),
             array_agg(m.last ORDER BY m.rep_id),
             greatest((SELECT max(k.pick_no) FROM picks k),
                      (SELECT ar.picks FROM @extschema@.assign_rotation ar WHERE ar.org_id = o.org_id))
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
            last_picks = excluded.last_picks, picks = excluded.picks, updated_at = now()
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
         AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = c.org_id AND z.rep_id = c.rep_id)
    )
    INSERT INTO @extschema@.rep_load AS l (org_id, rep_id, open_leads, counted_day, assigned_today, claimed_today, last_assigned_at)
    SELECT r.org_id, r.rep_id,
           (SELECT count(*) FROM @extschema@.lead x
             WHERE x.org_id = r.org_id AND x.owner_rep_id = r.rep_id AND x.status NOT IN ('won', 'lost')),
           t.today, coalesce(a.assigned, 0), coalesce(a.claimed, 0), a.last_at
      -- the reps without a row first (OFFSET 0 keeps the planner from
      -- counting the assignments of every rep before it filters)
      FROM (SELECT r.org_id, r.rep_id FROM @extschema@.sales_rep r
             WHERE r.org_id = o.org_id
               AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = r.org_id AND z.rep_id = r.rep_id)
            OFFSET 0) r
      CROSS JOIN (SELECT (at AT TIME ZONE o.timezone)::date AS today) t
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE y.reason IN ('round_robin', 'least_busy')
                                  AND y.assigned_at >= t.today::timestamp AT TIME ZONE o.timezone) AS assigned,
               count(*) FILTER (WHERE y.reason = 'claim'
                                  AND y.assigned_at >= t.today::timestamp AT TIME ZONE o.timezone) AS claimed,
               max(y.assigned_at) AS last_at
          FROM @extschema@.assignment y WHERE y.org_id = r.org_id AND y.rep_id = r.rep_id) a ON true;
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
COMMENT ON FUNCTION @extschema@.rep_load_sync(@extschema@.org, timestamptz) IS 'under the assignment lock, which the caller then keeps until commit: folds the settled assign_pick rows into assign_rotation and rep_load, builds missing rep_load rows from lead and assignment, and folds rep_load_change';

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
COMMENT ON FUNCTION @extschema@.assign_locked(@extschema@.org, bigint[], text, bigint[], timestamptz, text, bigint[], integer[], integer[], integer[], integer[]) IS 'engine step shared by assign_lead and assign_pending: decides for the given public leads (locked by the caller) among the roster''s reps (rep_roster) with engine_assign, folding first when it asks, and writes owners and history; returns the rep of each lead';

CREATE OR REPLACE FUNCTION @extschema@.claim_lead(org_id bigint, lead_id bigint, rep_id bigint, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz := coalesce(claim_lead.at, now());
  o @extschema@.org;
  r @extschema@.sales_rep;
  l record;
  ld @extschema@.rep_load;
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
  IF t IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'at must be finite';
  END IF;
  PERFORM @extschema@.check_rep_access(claim_lead.org_id, claim_lead.rep_id);
  o := @extschema@.ingest_org(claim_lead.org_id);
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

CREATE OR REPLACE FUNCTION @extschema@.release_lead(org_id bigint, lead_id bigint, rep_id bigint DEFAULT NULL, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz := coalesce(release_lead.at, now());
  l record;
BEGIN
  IF release_lead.org_id IS NULL OR release_lead.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id and lead_id must not be null';
  END IF;
  IF t IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'at must be finite';
  END IF;
  IF release_lead.rep_id IS NOT NULL THEN
    PERFORM @extschema@.check_rep_access(release_lead.org_id, release_lead.rep_id);
  END IF;
  SELECT x.pool, x.owner_rep_id, x.status INTO l
    FROM @extschema@.lead x WHERE x.org_id = release_lead.org_id AND x.lead_id = release_lead.lead_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', release_lead.lead_id, release_lead.org_id);
  END IF;
  IF l.pool = 'public' THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('lead %s is already in the public pool', release_lead.lead_id);
  END IF;
  IF release_lead.rep_id IS NOT NULL AND l.owner_rep_id <> release_lead.rep_id THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is owned by rep %s, not rep %s', release_lead.lead_id, l.owner_rep_id, release_lead.rep_id);
  END IF;
  PERFORM @extschema@.check_rep_access(release_lead.org_id, l.owner_rep_id);
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', release_lead.org_id));
  -- the lead's own pick may still be in the journal: fold it first
  PERFORM @extschema@.rep_load_sync(o, t) FROM @extschema@.org o WHERE o.org_id = release_lead.org_id;
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  UPDATE @extschema@.lead x SET pool = 'public', owner_rep_id = NULL, owned_since = NULL, updated_at = now()
   WHERE x.org_id = release_lead.org_id AND x.lead_id = release_lead.lead_id;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
  -- a row that rep_load_sync builds later counts from the leads, so only an existing row changes
  UPDATE @extschema@.rep_load x SET open_leads = greatest(x.open_leads - (l.status NOT IN ('won', 'lost'))::int, 0)
   WHERE x.org_id = release_lead.org_id AND x.rep_id = l.owner_rep_id;
  UPDATE @extschema@.assignment a SET released_at = greatest(t, a.assigned_at), release_reason = 'release'
   WHERE a.org_id = release_lead.org_id AND a.lead_id = release_lead.lead_id AND a.released_at IS NULL;
  RETURN l.owner_rep_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.release_lead(bigint, bigint, bigint, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.release_lead(bigint, bigint, bigint, timestamptz) IS 'puts an owned lead back in the public pool and closes its assignment with reason release; a sales role releases only its own leads; returns the previous owner';

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
