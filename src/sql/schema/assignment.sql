-- ---------------------------------------------------------------------------
-- Lead assignment engine: rotation, pools, claims, recycling
-- (src/assignment*.c, docs/reference/assignment.md): since 0.4
--
-- Every decision of who gets a lead, and every change of each rep's
-- counters, happens under the org's assignment lock (a transaction advisory
-- lock on hashtextextended('leadmgmt.assign', org_id)); under it nobody waits
-- for a lead row; batches lock their leads with SKIP LOCKED.  So assignment,
-- claims and recycling of one org are serialised, fair and deadlock-free.
-- Since 0.7 a call that only assigns releases the lock before it writes
-- owners and history (the pick journal, below).
-- ---------------------------------------------------------------------------

-- Engine state.  These tables are derived: when emptied the engine rebuilds
-- them from lead and assignment on first use, so they never hold data that
-- exists nowhere else.  Since 0.11 pg_dump keeps them like every table, from
-- the same snapshot as lead.
CREATE TABLE @extschema@.rep_load (
  org_id            bigint NOT NULL,
  rep_id            bigint NOT NULL,
  open_leads        integer NOT NULL CHECK (open_leads >= 0),
  counted_day       date NOT NULL,
  assigned_today    integer NOT NULL DEFAULT 0 CHECK (assigned_today >= 0),
  claimed_today     integer NOT NULL DEFAULT 0 CHECK (claimed_today >= 0),
  last_assigned_at  timestamptz,
  PRIMARY KEY (org_id, rep_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.rep_load IS 'engine state, derived: each rep''s open leads and today''s assignments and claims, kept under the org''s assignment lock and rebuilt from lead and assignment when missing';
COMMENT ON COLUMN @extschema@.rep_load.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_load.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_load.open_leads IS 'leads the rep owns that are not won or lost, less the changes still in rep_load_change';
COMMENT ON COLUMN @extschema@.rep_load.counted_day IS 'day (org time zone) that assigned_today and claimed_today count';
COMMENT ON COLUMN @extschema@.rep_load.assigned_today IS 'leads the engine assigned to the rep on counted_day';
COMMENT ON COLUMN @extschema@.rep_load.claimed_today IS 'leads the rep claimed on counted_day';
COMMENT ON COLUMN @extschema@.rep_load.last_assigned_at IS 'when the rep last got a lead';

CREATE TABLE @extschema@.rep_load_change (
  org_id     bigint NOT NULL,
  change_id  bigint GENERATED ALWAYS AS IDENTITY,
  rep_id     bigint NOT NULL,
  delta      integer NOT NULL,
  PRIMARY KEY (org_id, change_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.rep_load_change IS 'engine state, derived: changes of open leads per rep written by the lead trigger without waiting for any lock, folded into rep_load by the next engine call';
COMMENT ON COLUMN @extschema@.rep_load_change.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_load_change.change_id IS 'change id';
COMMENT ON COLUMN @extschema@.rep_load_change.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_load_change.delta IS '+1 or -1 open lead';

CREATE TABLE @extschema@.assign_rotation (
  org_id           bigint NOT NULL REFERENCES @extschema@.org (org_id),
  rep_ids          bigint[] NOT NULL,
  current_weights  bigint[] NOT NULL,
  last_picks       bigint[] NOT NULL,
  picks            bigint NOT NULL CHECK (picks >= 0),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id),
  CHECK (cardinality(rep_ids) = cardinality(current_weights) AND cardinality(rep_ids) = cardinality(last_picks))
);
COMMENT ON TABLE @extschema@.assign_rotation IS 'engine state: the smooth weighted round-robin of each org';
COMMENT ON COLUMN @extschema@.assign_rotation.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assign_rotation.rep_ids IS 'reps of the rotation, ascending';
COMMENT ON COLUMN @extschema@.assign_rotation.current_weights IS 'current weight of each rep';
COMMENT ON COLUMN @extschema@.assign_rotation.last_picks IS 'number of the pick that last chose each rep (0: never), for ties';
COMMENT ON COLUMN @extschema@.assign_rotation.picks IS 'picks made so far';
COMMENT ON COLUMN @extschema@.assign_rotation.updated_at IS 'when the rotation last moved';


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
COMMENT ON TABLE @extschema@.assign_pick IS 'engine state: the pick journal, one row per assign_lead or assign_pending call since the last fold; the engine reads it with a dirty snapshot, so picks in flight count and rolled-back ones vanish; rep_load_sync folds settled rows into assign_rotation and rep_load (no foreign key: its rows live for seconds, and a key check would lock the org row in every call)';
COMMENT ON COLUMN @extschema@.assign_pick.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assign_pick.pick_no IS 'the rotation''s pick count after this call''s picks';
COMMENT ON COLUMN @extschema@.assign_pick.day IS 'day (org time zone) the picks count for in the daily caps';
COMMENT ON COLUMN @extschema@.assign_pick.at IS 'assignment time of the call';
COMMENT ON COLUMN @extschema@.assign_pick.rep_ids IS 'reps whose rotation or counters the call moved, ascending';
COMMENT ON COLUMN @extschema@.assign_pick.current_delta IS 'change of each rep''s current weight (smooth round-robin)';
COMMENT ON COLUMN @extschema@.assign_pick.last_picks IS 'number of the call''s last pick of each rep (0: not picked)';
COMMENT ON COLUMN @extschema@.assign_pick.taken IS 'leads each rep took in the call';

CREATE TRIGGER rep_load_track_insert AFTER INSERT ON @extschema@.lead FOR EACH ROW
  WHEN (NEW.owner_rep_id IS NOT NULL AND NEW.status NOT IN ('won', 'lost')
        AND current_setting('leadmgmt.engine_update', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION @extschema@.rep_load_track();
CREATE TRIGGER rep_load_track_update AFTER UPDATE OF owner_rep_id, status ON @extschema@.lead FOR EACH ROW
  WHEN ((OLD.owner_rep_id IS DISTINCT FROM NEW.owner_rep_id
         OR (OLD.status IN ('won', 'lost')) IS DISTINCT FROM (NEW.status IN ('won', 'lost')))
        AND current_setting('leadmgmt.engine_update', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION @extschema@.rep_load_track();
CREATE TRIGGER rep_load_track_delete AFTER DELETE ON @extschema@.lead FOR EACH ROW
  WHEN (OLD.owner_rep_id IS NOT NULL AND OLD.status NOT IN ('won', 'lost')
        AND current_setting('leadmgmt.engine_update', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION @extschema@.rep_load_track();

-- ---------------------------------------------------------------------------
-- Assignment reports for BI (docs/reference/assignment.md): since 0.4.
-- "Now" is the org's report_as_of when set, else now().
-- ---------------------------------------------------------------------------

-- recycle_schedule is the query of recycle_due() for every org (since 0.12:
-- Citus cannot plan a view that calls a table-reading function per org)
CREATE VIEW @extschema@.recycle_schedule WITH (security_invoker = true) AS
SELECT d.org_id, d.lead_id, d.owner_rep_id AS rep_id, d.tier, d.owned_since, d.first_at AS first_follow_up_at,
       d.fu_due AS follow_up_due_at, d.deal_due AS deal_due_at, least(d.fu_due, d.deal_due) AS recycle_at,
       CASE WHEN d.fu_due <= d.deal_due THEN 'recycle_no_follow_up' ELSE 'recycle_no_deal' END AS reason
  FROM (SELECT l.org_id, l.lead_id, l.owner_rep_id, coalesce(l.tier, 'D')::char(1) AS tier, l.owned_since, f.first_at,
               CASE WHEN f.first_at IS NULL THEN l.owned_since + p.follow_up_sla END AS fu_due,
               l.owned_since + o.recycle_no_deal_after AS deal_due
          FROM @extschema@.lead l
          JOIN @extschema@.org o ON o.org_id = l.org_id
          JOIN @extschema@.effective_tier_policy p ON p.org_id = l.org_id AND p.tier = coalesce(l.tier, 'D')
          LEFT JOIN LATERAL (SELECT min(x.occurred_at) AS first_at FROM @extschema@.follow_up x
                              WHERE x.org_id = l.org_id AND x.lead_id = l.lead_id AND x.rep_id = l.owner_rep_id
                                AND x.occurred_at >= l.owned_since) f ON true
         WHERE l.pool = 'private' AND l.status NOT IN ('won', 'lost')) d;
COMMENT ON VIEW @extschema@.recycle_schedule IS 'every owned open lead with the time it falls due for recycling (回收) and why: its tier''s follow-up SLA after it was taken while the owner has not followed up, else the org''s recycle_no_deal_after; recycle_due(org_id) gives one org''s rows';
COMMENT ON COLUMN @extschema@.recycle_schedule.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.recycle_schedule.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.rep_id IS 'rep who owns it now';
COMMENT ON COLUMN @extschema@.recycle_schedule.tier IS 'tier of the lead (D when it has none)';
COMMENT ON COLUMN @extschema@.recycle_schedule.owned_since IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.first_follow_up_at IS 'the owner''s first follow-up since then; NULL when none yet';
COMMENT ON COLUMN @extschema@.recycle_schedule.follow_up_due_at IS 'first follow-up due by this time under the tier''s SLA; NULL once the rep followed up';
COMMENT ON COLUMN @extschema@.recycle_schedule.deal_due_at IS 'deal (status won) due by this time';
COMMENT ON COLUMN @extschema@.recycle_schedule.recycle_at IS 'when the lead is recycled: the earlier of the two';
COMMENT ON COLUMN @extschema@.recycle_schedule.reason IS 'recycle_no_follow_up or recycle_no_deal';

CREATE VIEW @extschema@.recycle_warnings WITH (security_invoker = true) AS
-- tier::bpchar: the type the column had from recycle_due() until 0.11
SELECT o.org_id, d.lead_id, d.rep_id, r.name AS rep_name, d.tier::bpchar AS tier, d.owned_since, d.follow_up_due_at, d.deal_due_at,
       d.recycle_at, d.reason AS recycle_reason,
       d.recycle_at - coalesce(o.report_as_of, now()) AS due_in,
       d.recycle_at <= coalesce(o.report_as_of, now()) AS overdue
  FROM @extschema@.org o
  JOIN @extschema@.recycle_schedule d ON d.org_id = o.org_id
  JOIN @extschema@.sales_rep r ON r.org_id = o.org_id AND r.rep_id = d.rep_id
 WHERE d.recycle_at <= coalesce(o.report_as_of, now()) + o.recycle_warning;
COMMENT ON VIEW @extschema@.recycle_warnings IS 'owned leads that recycle_stale will return to the public pool within the org''s recycle_warning (or already should have), with when and why';
COMMENT ON COLUMN @extschema@.recycle_warnings.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.recycle_warnings.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.recycle_warnings.rep_id IS 'rep who owns it now';
COMMENT ON COLUMN @extschema@.recycle_warnings.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.recycle_warnings.tier IS 'tier of the lead (D when it has none)';
COMMENT ON COLUMN @extschema@.recycle_warnings.owned_since IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.recycle_warnings.follow_up_due_at IS 'first follow-up due by this time under the tier''s SLA; empty once the rep followed up';
COMMENT ON COLUMN @extschema@.recycle_warnings.deal_due_at IS 'deal (status won) due by this time';
COMMENT ON COLUMN @extschema@.recycle_warnings.recycle_at IS 'when the lead is recycled: the earlier of the two';
COMMENT ON COLUMN @extschema@.recycle_warnings.recycle_reason IS 'recycle_no_follow_up or recycle_no_deal';
COMMENT ON COLUMN @extschema@.recycle_warnings.due_in IS 'time left until recycling; negative when overdue';
COMMENT ON COLUMN @extschema@.recycle_warnings.overdue IS 'true when the next recycle_stale run takes it';

CREATE VIEW @extschema@.rep_workload WITH (security_invoker = true) AS
SELECT r.org_id, r.team_id, tm.name AS team_name, r.rep_id, r.name AS rep_name, r.role, r.active,
       NOT EXISTS (SELECT 1 FROM @extschema@.rep_shift s WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id)
       OR EXISTS (SELECT 1 FROM @extschema@.rep_shift s
                   WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id
                     AND s.weekday = extract(isodow FROM n.local)
                     AND n.local::time >= s.starts_at AND n.local::time < s.ends_at) AS on_shift_now,
       ol.open_leads, r.holding_cap, greatest(r.holding_cap - ol.open_leads, 0) AS holding_room,
       td.assigned_today, r.daily_cap, td.claimed_today, r.daily_claim_cap, td.last_assigned_at
  FROM @extschema@.sales_rep r
  -- the org's clock as a join, not a LATERAL without FROM (Citus cannot
  -- push one down that calls now(); since 0.11)
  JOIN (SELECT o.org_id, o.timezone, coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone AS local
          FROM @extschema@.org o) n ON n.org_id = r.org_id
  LEFT JOIN @extschema@.team tm ON tm.org_id = r.org_id AND tm.team_id = r.team_id
 CROSS JOIN LATERAL (SELECT count(*) AS open_leads FROM @extschema@.lead l
                      WHERE l.org_id = r.org_id AND l.owner_rep_id = r.rep_id AND l.status NOT IN ('won', 'lost')) ol
 CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy')
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS assigned_today,
                            count(*) FILTER (WHERE a.reason = 'claim'
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS claimed_today,
                            max(a.assigned_at) AS last_assigned_at
                       FROM @extschema@.assignment a WHERE a.org_id = r.org_id AND a.rep_id = r.rep_id) td;
COMMENT ON VIEW @extschema@.rep_workload IS 'each rep now: on shift or not, open leads against the holding cap, and today''s assignments and claims against the daily caps';
COMMENT ON COLUMN @extschema@.rep_workload.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_workload.team_id IS 'team of the rep';
COMMENT ON COLUMN @extschema@.rep_workload.team_name IS 'name of the team';
COMMENT ON COLUMN @extschema@.rep_workload.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_workload.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.rep_workload.role IS 'ai_bot, tmk, sales or top_sales';
COMMENT ON COLUMN @extschema@.rep_workload.active IS 'false when the rep takes no leads';
COMMENT ON COLUMN @extschema@.rep_workload.on_shift_now IS 'true when the rep works now (org time zone); a rep without shifts always does';
COMMENT ON COLUMN @extschema@.rep_workload.open_leads IS 'leads the rep owns that are not won or lost';
COMMENT ON COLUMN @extschema@.rep_workload.holding_cap IS 'most open leads the rep may hold';
COMMENT ON COLUMN @extschema@.rep_workload.holding_room IS 'leads the rep can still take before the holding cap';
COMMENT ON COLUMN @extschema@.rep_workload.assigned_today IS 'leads assigned to the rep today by round-robin or least-busy';
COMMENT ON COLUMN @extschema@.rep_workload.daily_cap IS 'most leads assigned per day';
COMMENT ON COLUMN @extschema@.rep_workload.claimed_today IS 'leads the rep claimed from the public pool today';
COMMENT ON COLUMN @extschema@.rep_workload.daily_claim_cap IS 'most claims per day';
COMMENT ON COLUMN @extschema@.rep_workload.last_assigned_at IS 'when the rep last got a lead';

CREATE VIEW @extschema@.rep_sla WITH (security_invoker = true) AS
WITH a AS (
  SELECT a.org_id, a.rep_id, coalesce(l.tier, 'D')::char(1) AS tier, p.follow_up_sla, a.assigned_at,
         date_trunc('month', a.assigned_at AT TIME ZONE o.timezone)::date AS month,
         coalesce(o.report_as_of, now()) AS as_of,
         (SELECT min(f.occurred_at) FROM @extschema@.follow_up f
           WHERE f.org_id = a.org_id AND f.lead_id = a.lead_id AND f.rep_id = a.rep_id AND f.occurred_at >= a.assigned_at
             AND (a.released_at IS NULL OR f.occurred_at < a.released_at)) AS first_contact_at,
         EXISTS (SELECT 1 FROM @extschema@.lead_event e
                  WHERE e.org_id = a.org_id AND e.lead_id = a.lead_id AND e.event_type = 'paid' AND e.occurred_at >= a.assigned_at
                    AND (a.released_at IS NULL OR e.occurred_at < a.released_at)) AS converted
    FROM @extschema@.assignment a
    JOIN @extschema@.lead l ON l.org_id = a.org_id AND l.lead_id = a.lead_id
    JOIN @extschema@.org o ON o.org_id = a.org_id
    JOIN @extschema@.effective_tier_policy p ON p.org_id = a.org_id AND p.tier = coalesce(l.tier, 'D')
)
SELECT a.org_id, a.month, a.rep_id, r.name AS rep_name, a.tier, a.follow_up_sla,
       count(*) AS leads_assigned,
       count(a.first_contact_at) AS leads_contacted,
       count(*) FILTER (WHERE a.first_contact_at <= a.assigned_at + a.follow_up_sla) AS contacted_within_sla,
       count(*) FILTER (WHERE a.first_contact_at IS NOT NULL OR a.assigned_at + a.follow_up_sla <= a.as_of) AS sla_due,
       round(count(*) FILTER (WHERE a.first_contact_at <= a.assigned_at + a.follow_up_sla)::numeric
             / nullif(count(*) FILTER (WHERE a.first_contact_at IS NOT NULL OR a.assigned_at + a.follow_up_sla <= a.as_of), 0), 4)
         AS sla_compliance,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.first_contact_at - a.assigned_at) AS median_time_to_first_contact,
       count(*) FILTER (WHERE a.converted) AS leads_paid,
       round(count(*) FILTER (WHERE a.converted)::numeric / count(*), 4) AS conversion_rate
  FROM a JOIN @extschema@.sales_rep r ON r.org_id = a.org_id AND r.rep_id = a.rep_id
 GROUP BY a.org_id, a.month, a.rep_id, r.name, a.tier, a.follow_up_sla;
COMMENT ON VIEW @extschema@.rep_sla IS 'per month of assignment, rep and lead tier: follow-up SLA compliance, time to first contact and conversion of the leads the rep got';
COMMENT ON COLUMN @extschema@.rep_sla.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_sla.month IS 'month the rep got the leads (org time zone)';
COMMENT ON COLUMN @extschema@.rep_sla.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_sla.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.rep_sla.tier IS 'tier of the leads (their tier now; D when none)';
COMMENT ON COLUMN @extschema@.rep_sla.follow_up_sla IS 'first follow-up due within this time of getting the lead';
COMMENT ON COLUMN @extschema@.rep_sla.leads_assigned IS 'leads the rep got (assigned, claimed or otherwise)';
COMMENT ON COLUMN @extschema@.rep_sla.leads_contacted IS 'of those, leads the rep followed up while owning them';
COMMENT ON COLUMN @extschema@.rep_sla.contacted_within_sla IS 'leads first followed up within the SLA';
COMMENT ON COLUMN @extschema@.rep_sla.sla_due IS 'leads whose SLA has run out or that were followed up: the denominator of sla_compliance';
COMMENT ON COLUMN @extschema@.rep_sla.sla_compliance IS 'contacted_within_sla / sla_due, 0 to 1';
COMMENT ON COLUMN @extschema@.rep_sla.median_time_to_first_contact IS 'median time from getting a lead to its first follow-up';
COMMENT ON COLUMN @extschema@.rep_sla.leads_paid IS 'leads that paid while the rep owned them';
COMMENT ON COLUMN @extschema@.rep_sla.conversion_rate IS 'leads_paid / leads_assigned, 0 to 1';

CREATE VIEW @extschema@.rep_leaderboard WITH (security_invoker = true) AS
WITH m AS (
  SELECT a.org_id, a.rep_id, date_trunc('month', a.assigned_at AT TIME ZONE o.timezone)::date AS month,
         1 AS assigned, 0 AS follow_ups, 0 AS trials, 0 AS paid, 0::numeric AS revenue
    FROM @extschema@.assignment a JOIN @extschema@.org o ON o.org_id = a.org_id
  UNION ALL
  SELECT f.org_id, f.rep_id, date_trunc('month', f.occurred_at AT TIME ZONE o.timezone)::date,
         0, 1, (f.outcome = 'trial_booked')::int, 0, 0
    FROM @extschema@.follow_up f JOIN @extschema@.org o ON o.org_id = f.org_id
  UNION ALL
  SELECT so.org_id, so.rep_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, (NOT so.is_renewal)::int, so.amount
    FROM @extschema@.sales_order so JOIN @extschema@.org o ON o.org_id = so.org_id
   WHERE so.status = 'paid' AND so.rep_id IS NOT NULL
), g AS (
  SELECT m.org_id, m.month, m.rep_id, sum(m.assigned) AS leads_assigned, sum(m.follow_ups) AS follow_ups,
         sum(m.trials) AS trials_booked, sum(m.paid) AS new_students, sum(m.revenue) AS revenue
    FROM m GROUP BY m.org_id, m.month, m.rep_id
)
SELECT g.org_id, g.month, g.rep_id, r.name AS rep_name, r.role, g.leads_assigned, g.follow_ups, g.trials_booked,
       g.new_students, g.revenue::numeric(14,2) AS revenue,
       round(g.new_students::numeric / nullif(g.leads_assigned, 0), 4) AS students_per_lead,
       rank() OVER (PARTITION BY g.org_id, g.month ORDER BY g.revenue DESC, g.new_students DESC) AS revenue_rank
  FROM g JOIN @extschema@.sales_rep r ON r.org_id = g.org_id AND r.rep_id = g.rep_id;
COMMENT ON VIEW @extschema@.rep_leaderboard IS 'per month and rep: leads got, follow-ups, trials booked, new students and revenue credited, ranked by revenue within the org and month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_leaderboard.month IS 'month (org time zone)';
COMMENT ON COLUMN @extschema@.rep_leaderboard.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.role IS 'ai_bot, tmk, sales or top_sales';
COMMENT ON COLUMN @extschema@.rep_leaderboard.leads_assigned IS 'leads the rep got in the month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.follow_ups IS 'follow-up contacts the rep made in the month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.trials_booked IS 'follow-ups of the month that booked a trial lesson';
COMMENT ON COLUMN @extschema@.rep_leaderboard.new_students IS 'first (not renewal) orders paid in the month credited to the rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.revenue IS 'amount of all orders paid in the month credited to the rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.students_per_lead IS 'new_students / leads_assigned of the month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.revenue_rank IS 'rank by revenue (then new students) in the org and month, 1 = best';

CREATE VIEW @extschema@.pool_health WITH (security_invoker = true) AS
-- the org's clock in a subquery of org and the warnings as a join (since
-- 0.12: Citus cannot push down a FROM-less subquery calling now(), nor a
-- correlated subquery in the select list)
SELECT o.org_id, o.as_of,
       p.public_leads, p.public_tier_a, p.public_tier_b, p.public_tier_c, p.public_tier_d, p.public_untiered,
       p.oldest_public_created_at, o.as_of - p.oldest_public_created_at AS oldest_public_age,
       p.private_leads,
       h.assigned_today, h.claimed_today, h.recycled_today, h.recycled_last_7_days,
       coalesce(w.due, 0) AS due_for_recycling
  FROM (SELECT o.org_id, coalesce(o.report_as_of, now()) AS as_of,
               (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date::timestamp AT TIME ZONE o.timezone AS day_start
          FROM @extschema@.org o) o
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE l.pool = 'public') AS public_leads,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'A') AS public_tier_a,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'B') AS public_tier_b,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'C') AS public_tier_c,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'D') AS public_tier_d,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier IS NULL) AS public_untiered,
          min(l.created_at) FILTER (WHERE l.pool = 'public') AS oldest_public_created_at,
          count(*) FILTER (WHERE l.pool = 'private') AS private_leads
     FROM @extschema@.lead l WHERE l.org_id = o.org_id AND l.status NOT IN ('won', 'lost')) p
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy') AND a.assigned_at >= o.day_start) AS assigned_today,
          count(*) FILTER (WHERE a.reason = 'claim' AND a.assigned_at >= o.day_start) AS claimed_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start) AS recycled_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start - interval '6 days') AS recycled_last_7_days
     FROM @extschema@.assignment a
    WHERE a.org_id = o.org_id AND (a.assigned_at >= o.day_start OR a.released_at >= o.day_start - interval '6 days')) h
  LEFT JOIN (SELECT w.org_id, count(*) AS due FROM @extschema@.recycle_warnings w GROUP BY w.org_id) w ON w.org_id = o.org_id;
COMMENT ON VIEW @extschema@.pool_health IS 'per org now: open leads waiting in the public pool by tier and the oldest of them, leads held privately, today''s assignments, claims and recycling, and leads due for recycling';
COMMENT ON COLUMN @extschema@.pool_health.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.pool_health.as_of IS 'time the figures are for';
COMMENT ON COLUMN @extschema@.pool_health.public_leads IS 'open leads in the public pool (公海)';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_a IS 'of those, tier A';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_b IS 'of those, tier B';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_c IS 'of those, tier C';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_d IS 'of those, tier D';
COMMENT ON COLUMN @extschema@.pool_health.public_untiered IS 'of those, not tiered yet';
COMMENT ON COLUMN @extschema@.pool_health.oldest_public_created_at IS 'creation time of the oldest lead in the public pool';
COMMENT ON COLUMN @extschema@.pool_health.oldest_public_age IS 'age of the oldest lead in the public pool';
COMMENT ON COLUMN @extschema@.pool_health.private_leads IS 'open leads held in private pools (私海)';
COMMENT ON COLUMN @extschema@.pool_health.assigned_today IS 'leads assigned today by round-robin or least-busy';
COMMENT ON COLUMN @extschema@.pool_health.claimed_today IS 'leads claimed from the public pool today';
COMMENT ON COLUMN @extschema@.pool_health.recycled_today IS 'leads recycled (回收) to the public pool today';
COMMENT ON COLUMN @extschema@.pool_health.recycled_last_7_days IS 'leads recycled today and in the 6 days before';
COMMENT ON COLUMN @extschema@.pool_health.due_for_recycling IS 'leads in recycle_warnings';

CREATE VIEW @extschema@.pool_daily WITH (security_invoker = true) AS
WITH ev AS (
  SELECT a.org_id, (a.assigned_at AT TIME ZONE o.timezone)::date AS day, a.reason AS what
    FROM @extschema@.assignment a JOIN @extschema@.org o ON o.org_id = a.org_id
  UNION ALL
  SELECT a.org_id, (a.released_at AT TIME ZONE o.timezone)::date, a.release_reason
    FROM @extschema@.assignment a JOIN @extschema@.org o ON o.org_id = a.org_id
   WHERE a.released_at IS NOT NULL
)
SELECT ev.org_id, ev.day,
       count(*) FILTER (WHERE ev.what IN ('round_robin', 'least_busy')) AS assigned,
       count(*) FILTER (WHERE ev.what = 'claim') AS claimed,
       count(*) FILTER (WHERE ev.what IN ('manual', 'transfer', 'import')) AS assigned_otherwise,
       count(*) FILTER (WHERE ev.what = 'release') AS released,
       count(*) FILTER (WHERE ev.what = 'recycle_no_follow_up') AS recycled_no_follow_up,
       count(*) FILTER (WHERE ev.what = 'recycle_no_deal') AS recycled_no_deal
  FROM ev GROUP BY ev.org_id, ev.day;
COMMENT ON VIEW @extschema@.pool_daily IS 'per org and day (org time zone): leads moved between the pools by assignment, claims, releases and recycling';
COMMENT ON COLUMN @extschema@.pool_daily.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.pool_daily.day IS 'day';
COMMENT ON COLUMN @extschema@.pool_daily.assigned IS 'leads assigned by round-robin or least-busy';
COMMENT ON COLUMN @extschema@.pool_daily.claimed IS 'leads claimed from the public pool';
COMMENT ON COLUMN @extschema@.pool_daily.assigned_otherwise IS 'leads given by hand, transfer or import';
COMMENT ON COLUMN @extschema@.pool_daily.released IS 'leads released by their owner';
COMMENT ON COLUMN @extschema@.pool_daily.recycled_no_follow_up IS 'leads recycled for no follow-up within the SLA';
COMMENT ON COLUMN @extschema@.pool_daily.recycled_no_deal IS 'leads recycled for no deal in time';
