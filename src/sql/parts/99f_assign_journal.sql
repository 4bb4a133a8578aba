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
