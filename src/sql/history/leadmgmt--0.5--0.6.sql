-- leadmgmt 0.5 -> 0.6, built from src/sql/parts: 71_funnel_args view:lead_funnel

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.6'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Funnel aggregates with 2 to 8 steps as separate arguments: since 0.6.
--
-- A call such as window_funnel('1 day', ts, s1, s2, s3) matches both the
-- VARIADIC boolean[] aggregate and the overload with three boolean arguments;
-- PostgreSQL prefers the non-variadic match, so the executor passes the flags
-- as they are instead of building an array for every row (about a fifth of
-- the aggregate's time).  Same transition code, same state, same results.
-- Longer funnels, and explicit VARIADIC arrays, use the array form.
-- ---------------------------------------------------------------------------

DO $funnel_args$
DECLARE
  n int;
  flags text;                   -- boolean, boolean, ...
  named text;                   -- step1 boolean, step2 boolean, ...
  t record;
  a record;
BEGIN
  FOR n IN 2..8 LOOP
    SELECT string_agg('boolean', ', '), string_agg(format('step%s boolean', i), ', ')
      INTO flags, named FROM generate_series(1, n) i;

    -- the transitions: one per argument list, shared by window_funnel and
    -- funnel_detail; the excluding one has a name of its own, as its argument
    -- list (mode, ts, excluded, n - 1 steps) is that of (mode, ts, n steps)
    FOR t IN SELECT * FROM (VALUES
        ('funnel_transfn', 'interval, timestamptz', 'leadmgmt_funnel_transfn_args',
         'window_funnel(win, ts, ...) and funnel_detail(win, ts, ...)'),
        ('funnel_transfn', 'interval, text, timestamptz', 'leadmgmt_funnel_transfn_mode_args',
         'window_funnel(win, mode, ts, ...) and funnel_detail(win, mode, ts, ...)'),
        ('funnel_excluding_transfn', 'interval, text, timestamptz, boolean', 'leadmgmt_funnel_transfn_excluding_args',
         'window_funnel_excluding(win, mode, ts, excluded, ...)')
      ) v(name, args, symbol, serves)
    LOOP
      EXECUTE format('CREATE FUNCTION @extschema@.%I(@extschema@.funnel_state, %s, %s) '
                     'RETURNS @extschema@.funnel_state AS %L, %L LANGUAGE C IMMUTABLE PARALLEL SAFE',
                     t.name, t.args, flags, 'MODULE_PATHNAME', t.symbol);
      EXECUTE format('COMMENT ON FUNCTION @extschema@.%I(@extschema@.funnel_state, %s, %s) IS %L',
                     t.name, t.args, flags, format('transition of %s with %s steps as separate arguments', t.serves, n));
    END LOOP;

    -- the aggregates: the VARIADIC ones of 70_funnel.sql, with the steps spelt out
    FOR a IN SELECT * FROM (VALUES
        ('window_funnel', 'win interval, ts timestamptz', 'interval, timestamptz', 'funnel_transfn', 'funnel_final_level'),
        ('window_funnel', 'win interval, mode text, ts timestamptz', 'interval, text, timestamptz',
         'funnel_transfn', 'funnel_final_level'),
        ('window_funnel_excluding', 'win interval, mode text, ts timestamptz, excluded boolean',
         'interval, text, timestamptz, boolean', 'funnel_excluding_transfn', 'funnel_final_level'),
        ('funnel_detail', 'win interval, ts timestamptz', 'interval, timestamptz', 'funnel_transfn', 'funnel_final_detail'),
        ('funnel_detail', 'win interval, mode text, ts timestamptz', 'interval, text, timestamptz',
         'funnel_transfn', 'funnel_final_detail')
      ) v(name, args, types, trans, final)
    LOOP
      EXECUTE format('CREATE AGGREGATE @extschema@.%I(%s, %s) ('
                     'SFUNC = @extschema@.%I, STYPE = @extschema@.funnel_state, SSPACE = 256, '
                     'COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.%I, PARALLEL = SAFE)',
                     a.name, a.args, named, a.trans, a.final);
      EXECUTE format('COMMENT ON AGGREGATE @extschema@.%I(%s, %s) IS %L', a.name, a.types, flags,
                     format('%s(%s, VARIADIC steps) for %s steps given as separate arguments: the same result, '
                            'without an array built for each row', a.name, a.types, n));
    END LOOP;
  END LOOP;
END
$funnel_args$;

CREATE OR REPLACE VIEW @extschema@.lead_funnel WITH (security_invoker = true) AS
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

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
