-- leadmgmt 0.1 -> 0.2, built from src/sql/parts: 26_register_table 70_funnel 80_funnel_views 90_tiers

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.2'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- register_table: what every user table of the extension gets, in one place
-- (since 0.2; 0.1 did the same in loops).  Tables added by later versions call
-- it from the install parts and from their upgrade script.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.register_table(tbl regclass, writers text[], lead_scoped boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rel name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = tbl);
  seq regclass;
BEGIN
  -- pg_dump keeps the rows, and the numbering of the identity columns
  PERFORM pg_catalog.pg_extension_config_dump(tbl, '');
  FOR seq IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = tbl AND d.deptype IN ('a', 'i')
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(seq, '');
  END LOOP;

  -- rows of the orgs the role may act for; writes with the given kinds of access
  EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', rel);
  EXECUTE format($f$CREATE POLICY tenant_read ON @extschema@.%I FOR SELECT
    USING (org_id = ANY ((SELECT @extschema@.acting_org_ids('{reporting,app,admin,sales}'))::bigint[])) $f$, rel);
  EXECUTE format($f$CREATE POLICY tenant_write ON @extschema@.%I FOR ALL
    USING (org_id = ANY ((SELECT @extschema@.acting_org_ids(%L))::bigint[]))
    WITH CHECK (org_id = ANY ((SELECT @extschema@.acting_org_ids(%L))::bigint[])) $f$, rel, writers, writers);

  -- rows that belong to a lead follow the lead's visibility for sales roles
  IF lead_scoped THEN
    EXECUTE format($f$CREATE POLICY sales_scope ON @extschema@.%1$I AS RESTRICTIVE FOR ALL
      USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
             OR EXISTS (SELECT 1 FROM @extschema@.lead l
                         WHERE l.org_id = %1$I.org_id AND l.lead_id = %1$I.lead_id)) $f$, rel);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.register_table(regclass, text[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.register_table(regclass, text[], boolean) IS 'gives a user table of the extension what every one has: pg_dump registration of it and its identity sequences, row-level security, tenant_read and tenant_write policies (writes by the given kinds of access) and, for rows that belong to a lead, the sales_scope policy';

-- ---------------------------------------------------------------------------
-- Funnel engine (src/funnel.c, docs/reference/window_funnel.md): since 0.2
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.funnel_state;

CREATE FUNCTION @extschema@.funnel_state_in(cstring) RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_in(cstring) IS 'text input of funnel_state: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) IS 'text output of funnel_state, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.funnel_state_recv(internal) RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_recv(internal) IS 'binary input of funnel_state (versioned)';
CREATE FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) IS 'binary output of funnel_state (versioned)';

CREATE TYPE @extschema@.funnel_state (
  INPUT = @extschema@.funnel_state_in,
  OUTPUT = @extschema@.funnel_state_out,
  RECEIVE = @extschema@.funnel_state_recv,
  SEND = @extschema@.funnel_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.funnel_state IS 'partial state of window_funnel and funnel_detail: the (time, matched steps) events of a group';

CREATE TYPE @extschema@.funnel_result AS (level integer, step_times timestamptz[]);
COMMENT ON TYPE @extschema@.funnel_result IS 'result of funnel_detail: the level reached and the time of each reached step';
COMMENT ON COLUMN @extschema@.funnel_result.level IS 'highest step reached, 0 when step 1 never happened';
COMMENT ON COLUMN @extschema@.funnel_result.step_times IS 'time of steps 1 to level in the chain that got furthest';

CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[]) IS 'transition of window_funnel(win, ts, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn_mode' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[]) IS 'transition of window_funnel(win, mode, ts, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn_excluding' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean, boolean[]) IS 'transition of window_funnel_excluding(win, mode, ts, excluded, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_combine(@extschema@.funnel_state, @extschema@.funnel_state)
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_combine(@extschema@.funnel_state, @extschema@.funnel_state) IS 'combines two partial funnel states (parallel workers, Citus)';
CREATE FUNCTION @extschema@.funnel_final_level(@extschema@.funnel_state) RETURNS integer
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_final_level' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_final_level(@extschema@.funnel_state) IS 'final of window_funnel: the highest step reached';
CREATE FUNCTION @extschema@.funnel_final_detail(@extschema@.funnel_state) RETURNS @extschema@.funnel_result
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_final_detail' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_final_detail(@extschema@.funnel_state) IS 'final of funnel_detail: level and step times';

CREATE AGGREGATE @extschema@.window_funnel(win interval, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_level,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, VARIADIC boolean[]) IS 'highest funnel step reached within the window, 0 if step 1 never happened; one row fills at most one step';
CREATE AGGREGATE @extschema@.window_funnel(win interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_level,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, VARIADIC boolean[]) IS 'window_funnel with a comma-separated mode: strict_order, strict_deduplication, strict_increase, first_entry';
CREATE AGGREGATE @extschema@.window_funnel_excluding(win interval, mode text, ts timestamptz, excluded boolean, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_level,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel_excluding(interval, text, timestamptz, boolean, VARIADIC boolean[]) IS 'window_funnel where an excluded row ends every chain in progress, as PostHog exclusions';
CREATE AGGREGATE @extschema@.funnel_detail(win interval, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_detail,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_detail(interval, timestamptz, VARIADIC boolean[]) IS 'window_funnel plus the time of each reached step, for time-to-convert';
CREATE AGGREGATE @extschema@.funnel_detail(win interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_detail,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_detail(interval, text, timestamptz, VARIADIC boolean[]) IS 'funnel_detail with a mode, as for window_funnel';

-- ---------------------------------------------------------------------------
-- Funnel reports for BI (docs/bi.md): since 0.2.  Stages: touch, lead,
-- sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed,
-- within the org's funnel_window (default 14 days) from the first stage.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.lead_funnel WITH (security_invoker = true) AS
WITH ev AS (
  SELECT t.org_id, t.lead_id, t.occurred_at AS ts, 1 AS step
    FROM @extschema@.touchpoint t WHERE t.lead_id IS NOT NULL
  UNION ALL
  SELECT e.org_id, e.lead_id, e.occurred_at,
         CASE e.event_type WHEN 'form_submitted' THEN 2 WHEN 'sms_verified' THEN 3 WHEN 'wechat_followed' THEN 4
              WHEN 'trial_booked' THEN 5 WHEN 'trial_attended' THEN 6 WHEN 'paid' THEN 7 ELSE 8 END
    FROM @extschema@.lead_event e
   WHERE e.event_type IN ('form_submitted', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed')
  UNION ALL
  SELECT r.org_id, s.lead_id, r.renewed_at, 8
    FROM @extschema@.renewal r
    JOIN @extschema@.enrollment en ON en.org_id = r.org_id AND en.enrollment_id = r.from_enrollment_id
    JOIN @extschema@.student s ON s.org_id = en.org_id AND s.student_id = en.student_id
   WHERE s.lead_id IS NOT NULL
), f AS (
  SELECT ev.org_id, ev.lead_id,
         @extschema@.funnel_detail(o.funnel_window, ev.ts, ev.step = 1, ev.step = 2, ev.step = 3, ev.step = 4,
                                   ev.step = 5, ev.step = 6, ev.step = 7, ev.step = 8) AS d
    FROM ev JOIN @extschema@.org o ON o.org_id = ev.org_id
   GROUP BY ev.org_id, ev.lead_id
)
SELECT l.org_id,
       l.lead_id,
       (l.created_at AT TIME ZONE o.timezone)::date AS cohort_date,
       fc.code                   AS channel,
       cp.code                   AS campaign,
       l.tier,
       l.city,
       coalesce((f.d).level, 0)  AS steps_reached,
       (f.d).step_times[1]       AS touched_at,
       (f.d).step_times[2]       AS became_lead_at,
       (f.d).step_times[3]       AS sms_verified_at,
       (f.d).step_times[4]       AS wechat_followed_at,
       (f.d).step_times[5]       AS trial_booked_at,
       (f.d).step_times[6]       AS trial_attended_at,
       (f.d).step_times[7]       AS paid_at,
       (f.d).step_times[8]       AS renewed_at
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  LEFT JOIN f ON f.org_id = l.org_id AND f.lead_id = l.lead_id;

COMMENT ON VIEW @extschema@.lead_funnel IS 'one row per lead: how far it got through touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed within the org funnel window, and when it reached each stage';
COMMENT ON COLUMN @extschema@.lead_funnel.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_funnel.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_funnel.cohort_date IS 'day the lead was created, in the org time zone';
COMMENT ON COLUMN @extschema@.lead_funnel.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.lead_funnel.campaign IS 'campaign of the first submission, if any';
COMMENT ON COLUMN @extschema@.lead_funnel.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.lead_funnel.city IS 'city';
COMMENT ON COLUMN @extschema@.lead_funnel.steps_reached IS 'stages reached in order within the window, 0 to 8';
COMMENT ON COLUMN @extschema@.lead_funnel.touched_at IS 'stage 1: the touch that started the furthest chain';
COMMENT ON COLUMN @extschema@.lead_funnel.became_lead_at IS 'stage 2: form submitted';
COMMENT ON COLUMN @extschema@.lead_funnel.sms_verified_at IS 'stage 3: SMS verified';
COMMENT ON COLUMN @extschema@.lead_funnel.wechat_followed_at IS 'stage 4: followed the WeChat account';
COMMENT ON COLUMN @extschema@.lead_funnel.trial_booked_at IS 'stage 5: trial lesson booked';
COMMENT ON COLUMN @extschema@.lead_funnel.trial_attended_at IS 'stage 6: trial lesson attended';
COMMENT ON COLUMN @extschema@.lead_funnel.paid_at IS 'stage 7: paid';
COMMENT ON COLUMN @extschema@.lead_funnel.renewed_at IS 'stage 8: renewed';

CREATE VIEW @extschema@.funnel_steps WITH (security_invoker = true) AS
SELECT f.org_id,
       f.lead_id,
       f.cohort_date,
       date_trunc('week', f.cohort_date)::date  AS cohort_week,
       date_trunc('month', f.cohort_date)::date AS cohort_month,
       f.channel,
       f.campaign,
       f.tier,
       f.city,
       s.step_number,
       s.step_name,
       s.reached_at,
       round((extract(epoch FROM s.reached_at - s.previous_at) / 3600)::numeric, 2) AS hours_from_previous
  FROM @extschema@.lead_funnel f
  CROSS JOIN LATERAL (
    SELECT k AS step_number,
           (ARRAY['touch', 'lead', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed'])[k] AS step_name,
           (ARRAY[f.touched_at, f.became_lead_at, f.sms_verified_at, f.wechat_followed_at, f.trial_booked_at,
                  f.trial_attended_at, f.paid_at, f.renewed_at])[k] AS reached_at,
           (ARRAY[NULL, f.touched_at, f.became_lead_at, f.sms_verified_at, f.wechat_followed_at, f.trial_booked_at,
                  f.trial_attended_at, f.paid_at])[k] AS previous_at
      FROM generate_series(1, f.steps_reached) AS k) s;

COMMENT ON VIEW @extschema@.funnel_steps IS 'one row per lead and funnel stage it reached, with the lead''s cohort and breakdowns, for BI tools to slice';
COMMENT ON COLUMN @extschema@.funnel_steps.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.funnel_steps.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_date IS 'day the lead was created, in the org time zone';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_week IS 'Monday of the week the lead was created';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_month IS 'first day of the month the lead was created';
COMMENT ON COLUMN @extschema@.funnel_steps.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.funnel_steps.campaign IS 'campaign of the first submission, if any';
COMMENT ON COLUMN @extschema@.funnel_steps.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.funnel_steps.city IS 'city';
COMMENT ON COLUMN @extschema@.funnel_steps.step_number IS 'stage number, 1 (touch) to 8 (renewed)';
COMMENT ON COLUMN @extschema@.funnel_steps.step_name IS 'touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid or renewed';
COMMENT ON COLUMN @extschema@.funnel_steps.reached_at IS 'when the lead reached the stage';
COMMENT ON COLUMN @extschema@.funnel_steps.hours_from_previous IS 'hours from the previous stage; NULL for the first';

CREATE VIEW @extschema@.funnel_report WITH (security_invoker = true) AS
-- one branch per period grain and breakdown, each with constant labels: a
-- filter on period_grain and breakdown prunes every other branch, and the
-- stages are computed once for the branches that run
WITH s AS MATERIALIZED (
  SELECT * FROM @extschema@.funnel_steps
), g AS (
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'all'::text AS breakdown,
         'all' AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'channel'::text AS breakdown,
         s.channel AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'campaign'::text AS breakdown,
         coalesce(s.campaign, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'tier'::text AS breakdown,
         coalesce(s.tier::text, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'city'::text AS breakdown,
         coalesce(s.city, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'all'::text AS breakdown,
         'all' AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'channel'::text AS breakdown,
         s.channel AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'campaign'::text AS breakdown,
         coalesce(s.campaign, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'tier'::text AS breakdown,
         coalesce(s.tier::text, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'city'::text AS breakdown,
         coalesce(s.city, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'all'::text AS breakdown,
         'all' AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'channel'::text AS breakdown,
         s.channel AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'campaign'::text AS breakdown,
         coalesce(s.campaign, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'tier'::text AS breakdown,
         coalesce(s.tier::text, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'city'::text AS breakdown,
         coalesce(s.city, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
)
SELECT g.org_id,
       g.period_grain,
       g.period_start,
       g.breakdown,
       g.breakdown_value,
       g.step_number,
       g.step_name,
       g.leads_reached,
       round(g.leads_reached::numeric / lag(g.leads_reached) OVER w, 4)         AS conversion_from_previous,
       round(g.leads_reached::numeric / first_value(g.leads_reached) OVER w, 4) AS conversion_from_first,
       round(g.median_hours::numeric, 2) AS median_hours_from_previous,
       round(g.p90_hours::numeric, 2)    AS p90_hours_from_previous
  FROM g
WINDOW w AS (PARTITION BY g.org_id, g.period_grain, g.period_start, g.breakdown, g.breakdown_value ORDER BY g.step_number);

COMMENT ON VIEW @extschema@.funnel_report IS 'funnel per org, period (day, week or month of the lead''s creation) and breakdown (all, channel, campaign, tier or city): leads that reached at least each stage, conversion and time between stages; filter on period_grain and breakdown';
COMMENT ON COLUMN @extschema@.funnel_report.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.funnel_report.period_grain IS 'day, week or month';
COMMENT ON COLUMN @extschema@.funnel_report.period_start IS 'first day of the period the leads were created in';
COMMENT ON COLUMN @extschema@.funnel_report.breakdown IS 'all, channel, campaign, tier or city';
COMMENT ON COLUMN @extschema@.funnel_report.breakdown_value IS 'the channel, campaign, tier or city; all for no breakdown; (none) where the lead has none';
COMMENT ON COLUMN @extschema@.funnel_report.step_number IS 'stage number, 1 (touch) to 8 (renewed)';
COMMENT ON COLUMN @extschema@.funnel_report.step_name IS 'touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid or renewed';
COMMENT ON COLUMN @extschema@.funnel_report.leads_reached IS 'leads that reached at least this stage within the window';
COMMENT ON COLUMN @extschema@.funnel_report.conversion_from_previous IS 'leads_reached divided by that of the previous stage';
COMMENT ON COLUMN @extschema@.funnel_report.conversion_from_first IS 'leads_reached divided by that of the first stage';
COMMENT ON COLUMN @extschema@.funnel_report.median_hours_from_previous IS 'median hours from the previous stage to this one';
COMMENT ON COLUMN @extschema@.funnel_report.p90_hours_from_previous IS '90th percentile of hours from the previous stage to this one';

-- ---------------------------------------------------------------------------
-- Lead tiers and cost-tiered routing (docs/reference/tiers.md): since 0.2
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.tier_policy (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  tier              char(1) NOT NULL CHECK (tier IN ('A', 'B', 'C', 'D')),
  handler_role      text NOT NULL CHECK (handler_role IN ('ai_bot', 'tmk', 'sales', 'top_sales')),
  cost_per_contact  numeric(14,2) NOT NULL CHECK (cost_per_contact >= 0),
  follow_up_sla     interval NOT NULL CHECK (follow_up_sla > interval '0'),
  min_score         float8 CHECK (min_score >= 0 AND min_score <= 1),
  PRIMARY KEY (org_id, tier)
);
COMMENT ON TABLE @extschema@.tier_policy IS 'per-org tier rules: who handles each tier, at what cost per contact, how fast, and the conversion probability that earns the tier; orgs without rows use the defaults of effective_tier_policy';
COMMENT ON COLUMN @extschema@.tier_policy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tier_policy.tier IS 'tier A (best) to D';
COMMENT ON COLUMN @extschema@.tier_policy.handler_role IS 'rep role that handles the tier: ai_bot, tmk, sales or top_sales';
COMMENT ON COLUMN @extschema@.tier_policy.cost_per_contact IS 'handling cost of one follow-up contact in this tier';
COMMENT ON COLUMN @extschema@.tier_policy.follow_up_sla IS 'first follow-up due within this time of assignment';
COMMENT ON COLUMN @extschema@.tier_policy.min_score IS 'least conversion probability for the tier when a model has scored the lead; NULL: the tier is never earned by score';

CREATE TABLE @extschema@.tier_change (
  org_id      bigint NOT NULL,
  change_id   bigint GENERATED ALWAYS AS IDENTITY,
  lead_id     bigint NOT NULL,
  old_tier    char(1) CHECK (old_tier IN ('A', 'B', 'C', 'D')),
  new_tier    char(1) NOT NULL CHECK (new_tier IN ('A', 'B', 'C', 'D')),
  stage       char(1) NOT NULL CHECK (stage IN ('A', 'B', 'C', 'D')),
  score       float8,
  reason      text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, change_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CONSTRAINT tier_change_changes CHECK (old_tier IS DISTINCT FROM new_tier)
);
CREATE INDEX tier_change_lead_idx ON @extschema@.tier_change (org_id, lead_id, changed_at);
COMMENT ON TABLE @extschema@.tier_change IS 'log of every tier change made by refresh_tiers, with time and reason';
COMMENT ON COLUMN @extschema@.tier_change.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tier_change.change_id IS 'change id';
COMMENT ON COLUMN @extschema@.tier_change.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.tier_change.old_tier IS 'tier before, NULL when the lead had none';
COMMENT ON COLUMN @extschema@.tier_change.new_tier IS 'tier after';
COMMENT ON COLUMN @extschema@.tier_change.stage IS 'behaviour stage at the time: D form only, C SMS verified, B WeChat followed, A self-booked trial';
COMMENT ON COLUMN @extschema@.tier_change.score IS 'conversion probability at the time, if scored';
COMMENT ON COLUMN @extschema@.tier_change.reason IS 'why, such as "stage B" or "score 0.62 >= 0.50 for A"';
COMMENT ON COLUMN @extschema@.tier_change.changed_at IS 'when the tier changed';

SELECT @extschema@.register_table('@extschema@.tier_policy', '{app,admin}');
SELECT @extschema@.register_table('@extschema@.tier_change', '{app,admin}', true);

CREATE VIEW @extschema@.effective_tier_policy WITH (security_invoker = true) AS
SELECT o.org_id,
       d.tier,
       coalesce(p.handler_role, d.handler_role)         AS handler_role,
       coalesce(p.cost_per_contact, d.cost_per_contact) AS cost_per_contact,
       coalesce(p.follow_up_sla, d.follow_up_sla)       AS follow_up_sla,
       CASE WHEN p.org_id IS NULL THEN d.min_score ELSE p.min_score END AS min_score,
       p.org_id IS NOT NULL                             AS is_customised
  FROM @extschema@.org o
 CROSS JOIN (VALUES ('A'::char(1), 'top_sales', 30.00::numeric(14,2), interval '1 hour', 0.50::float8),
                    ('B', 'sales', 20.00, interval '4 hours', 0.20),
                    ('C', 'tmk', 3.00, interval '24 hours', 0.05),
                    ('D', 'ai_bot', 0.30, interval '72 hours', 0.00))
       AS d(tier, handler_role, cost_per_contact, follow_up_sla, min_score)
  LEFT JOIN @extschema@.tier_policy p ON p.org_id = o.org_id AND p.tier = d.tier;
COMMENT ON VIEW @extschema@.effective_tier_policy IS 'the tier policy each org runs: its own tier_policy rows, or the defaults (A top_sales 30.00 1 h >= 0.50, B sales 20.00 4 h >= 0.20, C tmk 3.00 24 h >= 0.05, D ai_bot 0.30 72 h)';
COMMENT ON COLUMN @extschema@.effective_tier_policy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.effective_tier_policy.tier IS 'tier A to D';
COMMENT ON COLUMN @extschema@.effective_tier_policy.handler_role IS 'rep role that handles the tier';
COMMENT ON COLUMN @extschema@.effective_tier_policy.cost_per_contact IS 'handling cost of one contact';
COMMENT ON COLUMN @extschema@.effective_tier_policy.follow_up_sla IS 'first follow-up due within this time';
COMMENT ON COLUMN @extschema@.effective_tier_policy.min_score IS 'least conversion probability that earns the tier';
COMMENT ON COLUMN @extschema@.effective_tier_policy.is_customised IS 'true when the org set this tier itself';

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
    SELECT l.lead_id, l.tier, l.score FROM @extschema@.lead l
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

CREATE FUNCTION @extschema@.refresh_tiers(org_id bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o @extschema@.org := @extschema@.ingest_org(refresh_tiers.org_id);
  n integer;
BEGIN
  -- l.tier is checked again on the row being updated, so a concurrent refresh
  -- that got there first makes this one skip the lead rather than log it twice
  WITH changed AS (
    UPDATE @extschema@.lead l SET tier = t.tier, updated_at = now()
      FROM @extschema@.lead_tiers(o.org_id) t
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

CREATE VIEW @extschema@.tier_routing_savings WITH (security_invoker = true) AS
WITH leads AS (
  SELECT l.org_id, l.lead_id, l.first_channel_id AS channel_id,
         date_trunc('month', l.created_at AT TIME ZONE o.timezone)::date AS month,
         EXISTS (SELECT 1 FROM @extschema@.sales_order so WHERE so.org_id = l.org_id AND so.lead_id = l.lead_id
                    AND so.status = 'paid' AND NOT so.is_renewal) AS paid
    FROM @extschema@.lead l JOIN @extschema@.org o ON o.org_id = l.org_id
), handling AS (
  SELECT f.org_id, f.lead_id, sum(f.cost) AS cost
    FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id
), regular AS (
  -- what regular sales actually spend to handle one lead, per org
  SELECT f.org_id, sum(f.cost) / nullif(count(DISTINCT f.lead_id), 0) AS cost_per_lead
    FROM @extschema@.follow_up f
    JOIN @extschema@.sales_rep r ON r.org_id = f.org_id AND r.rep_id = f.rep_id
   WHERE r.role = 'sales'
   GROUP BY f.org_id
), spend AS (
  SELECT s.org_id, s.channel_id, date_trunc('month', s.spend_date)::date AS month, sum(s.spend) AS spend
    FROM @extschema@.ad_spend s GROUP BY 1, 2, 3
), m AS (
  SELECT ld.org_id, ld.month, ld.channel_id, count(*) AS leads, count(*) FILTER (WHERE ld.paid) AS paid_students,
         coalesce(sum(h.cost), 0) AS handling_tiered
    FROM leads ld LEFT JOIN handling h ON h.org_id = ld.org_id AND h.lead_id = ld.lead_id
   GROUP BY 1, 2, 3
)
SELECT m.org_id,
       m.month,
       c.code                                                  AS channel,
       m.leads,
       m.paid_students,
       coalesce(s.spend, 0)::numeric(14,2)                     AS spend,
       m.handling_tiered::numeric(14,2)                        AS handling_cost_tiered,
       (m.leads * r.cost_per_lead)::numeric(14,2)              AS handling_cost_flat,
       round((coalesce(s.spend, 0) + m.handling_tiered) / nullif(m.paid_students, 0), 2)              AS cost_per_paid_student_tiered,
       round((coalesce(s.spend, 0) + m.leads * r.cost_per_lead) / nullif(m.paid_students, 0), 2)      AS cost_per_paid_student_flat,
       round(100 * (1 - (coalesce(s.spend, 0) + m.handling_tiered)
                        / nullif(coalesce(s.spend, 0) + m.leads * r.cost_per_lead, 0)), 1)             AS saving_pct
  FROM m
  JOIN @extschema@.channel c ON c.org_id = m.org_id AND c.channel_id = m.channel_id
  LEFT JOIN spend s ON s.org_id = m.org_id AND s.channel_id = m.channel_id AND s.month = m.month
  LEFT JOIN regular r ON r.org_id = m.org_id;
COMMENT ON VIEW @extschema@.tier_routing_savings IS 'per org, month of lead creation and first channel: cost per paid student with tiered routing (actual follow-up costs) against flat routing (every lead handled at what regular sales spend per lead), both including ad spend; conversions are taken as equal, so the saving is the handling cost avoided';
COMMENT ON COLUMN @extschema@.tier_routing_savings.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tier_routing_savings.month IS 'month the leads were created, in the org time zone';
COMMENT ON COLUMN @extschema@.tier_routing_savings.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.tier_routing_savings.leads IS 'leads created that month through the channel';
COMMENT ON COLUMN @extschema@.tier_routing_savings.paid_students IS 'of those, leads with a paid first order';
COMMENT ON COLUMN @extschema@.tier_routing_savings.spend IS 'ad spend of the channel that month (never split by attribution)';
COMMENT ON COLUMN @extschema@.tier_routing_savings.handling_cost_tiered IS 'follow-up cost actually spent on those leads';
COMMENT ON COLUMN @extschema@.tier_routing_savings.handling_cost_flat IS 'leads times what regular sales spend to handle one lead in the org';
COMMENT ON COLUMN @extschema@.tier_routing_savings.cost_per_paid_student_tiered IS '(spend + tiered handling) per paid student';
COMMENT ON COLUMN @extschema@.tier_routing_savings.cost_per_paid_student_flat IS '(spend + flat handling) per paid student';
COMMENT ON COLUMN @extschema@.tier_routing_savings.saving_pct IS 'percent of total cost saved by tiered routing';

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
