-- window_funnel, funnel_detail and window_funnel_excluding: the worked cases
-- of domain.md, every mode, NULLs, errors, and the state's text form
\pset null '<null>'
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

-- ev holds the steps a row matches ('AB' matches A and B); X matches nothing
CREATE TEMP TABLE e (c text, ts timestamptz, ev text);
INSERT INTO e VALUES
 ('1 window end counts',   '2026-01-01 00:00', 'A'), ('1 window end counts', '2026-01-01 01:00', 'B'),
 ('2 one second late',     '2026-01-01 00:00', 'A'), ('2 one second late', '2026-01-01 01:00:01', 'B'),
 ('3 later A restarts',    '2026-01-01 13:00', 'A'), ('3 later A restarts', '2026-01-01 13:30', 'A'),
 ('3 later A restarts',    '2026-01-01 13:45', 'B'), ('3 later A restarts', '2026-01-01 14:15', 'C'),
 ('4 A B D C',             '2026-01-01 00:01', 'A'), ('4 A B D C', '2026-01-01 00:02', 'B'),
 ('4 A B D C',             '2026-01-01 00:03', 'X'), ('4 A B D C', '2026-01-01 00:04', 'C'),
 ('5 A B C B D',           '2026-01-01 00:01', 'A'), ('5 A B C B D', '2026-01-01 00:02', 'B'),
 ('5 A B C B D',           '2026-01-01 00:03', 'C'), ('5 A B C B D', '2026-01-01 00:04', 'B'),
 ('5 A B C B D',           '2026-01-01 00:05', 'D'),
 ('6 one row both A and B', '2026-01-01 00:00', 'AB'),
 ('7 A and B same time',   '2026-01-01 00:00', 'B'), ('7 A and B same time', '2026-01-01 00:00', 'A'),
 ('8 out of order',        '2026-01-01 00:00', 'A'), ('8 out of order', '2026-01-01 00:10', 'C'),
 ('8 out of order',        '2026-01-01 00:20', 'B'), ('8 out of order', '2026-01-01 00:30', 'C'),
 ('9 row that restarts or advances', '2026-01-01 00:00', 'A'), ('9 row that restarts or advances', '2026-01-01 00:50', 'AB'),
 ('9 row that restarts or advances', '2026-01-01 01:20', 'B'), ('9 row that restarts or advances', '2026-01-01 01:30', 'C'),
 ('10 no step 1',          '2026-01-01 00:00', 'B'), ('10 no step 1', '2026-01-01 00:05', 'C');

SELECT c AS "case",
  leadmgmt.window_funnel('1 hour', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%') AS default_mode,
  leadmgmt.window_funnel('1 hour', 'first_entry', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%') AS first_entry,
  leadmgmt.window_funnel('1 hour', 'strict_order', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%') AS strict_order,
  leadmgmt.window_funnel('1 hour', 'strict_deduplication', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%', ev LIKE '%D%') AS dedup_abcd,
  leadmgmt.window_funnel('1 hour', 'strict_increase', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%') AS strict_increase
FROM e GROUP BY c ORDER BY length(c) > 30, c COLLATE "C";

-- funnel_detail: the level and when each step of the furthest chain happened
SELECT c AS "case", (d).level, (d).step_times,
       (d).step_times[2] - (d).step_times[1] AS a_to_b
  FROM (SELECT c, leadmgmt.funnel_detail('1 hour', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%') AS d
          FROM e GROUP BY c) x
 ORDER BY c COLLATE "C";
SELECT leadmgmt.funnel_detail('1 hour', 'first_entry', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%')
  FROM e WHERE c = '3 later A restarts';

-- modes combine, in any case and with spaces
SELECT leadmgmt.window_funnel('1 hour', ' First_Entry , STRICT_INCREASE ', ts, ev LIKE '%A%', ev LIKE '%B%', ev LIKE '%C%')
  FROM e WHERE c = '3 later A restarts';
SELECT leadmgmt.window_funnel('1 hour', '', ts, ev = 'A', ev = 'B') AS empty_mode,
       leadmgmt.window_funnel('1 hour', NULL, ts, ev = 'A', ev = 'B') AS null_mode
  FROM e WHERE c = '1 window end counts';

-- exclusions: an excluded row between the steps drops the chain in progress
CREATE TEMP TABLE x (c text, ts timestamptz, ev text);
INSERT INTO x VALUES
  ('excluded between A and B', '2026-01-01 00:00', 'A'), ('excluded between A and B', '2026-01-01 00:10', 'refund'),
  ('excluded between A and B', '2026-01-01 00:20', 'B'),
  ('excluded after B',         '2026-01-01 00:00', 'A'), ('excluded after B', '2026-01-01 00:20', 'B'),
  ('excluded after B',         '2026-01-01 00:30', 'refund'),
  ('new chain after it',       '2026-01-01 00:00', 'A'), ('new chain after it', '2026-01-01 00:10', 'refund'),
  ('new chain after it',       '2026-01-01 00:15', 'A'), ('new chain after it', '2026-01-01 00:20', 'B'),
  ('excluded at the same time as B', '2026-01-01 00:00', 'A'), ('excluded at the same time as B', '2026-01-01 00:20', 'refund'),
  ('excluded at the same time as B', '2026-01-01 00:20', 'B');
SELECT c AS "case", leadmgmt.window_funnel_excluding('1 hour', '', ts, ev = 'refund', ev = 'A', ev = 'B') AS level,
       leadmgmt.window_funnel('1 hour', ts, ev = 'A', ev = 'B') AS without_exclusion
  FROM x GROUP BY c ORDER BY c COLLATE "C";

-- NULLs: rows without a time or steps are ignored, NULL flags are false
SELECT leadmgmt.window_funnel('1 hour', ts, a, b) AS level
  FROM (VALUES ('2026-01-01 00:00'::timestamptz, true, NULL::boolean), (NULL, false, true),
               ('2026-01-01 00:10', NULL, true), ('infinity', false, true)) v(ts, a, b);
SELECT leadmgmt.window_funnel('1 hour', ts, VARIADIC s) AS level
  FROM (VALUES ('2026-01-01 00:00'::timestamptz, ARRAY[true, false]), ('2026-01-01 00:10', NULL)) v(ts, s);
SELECT leadmgmt.window_funnel('1 hour', ts, true) AS only_nulls FROM (VALUES (NULL::timestamptz)) v(ts);
SELECT leadmgmt.window_funnel('1 hour', ts, ts > '2026-06-01') AS no_match FROM (VALUES ('2026-01-01'::timestamptz)) v(ts);
SELECT leadmgmt.window_funnel('1 hour', ts, true) AS empty_input FROM e WHERE false;
SELECT leadmgmt.funnel_detail('1 hour', ts, true) AS empty_detail FROM e WHERE false;

-- windows: months count as in EXTRACT(epoch); huge windows do not overflow
SELECT leadmgmt.window_funnel('1 mon', ts, ev = 'A', ev = 'B') AS month_window,
       leadmgmt.window_funnel('100000 years', ts, ev = 'A', ev = 'B') AS huge_window,
       leadmgmt.window_funnel('1 microsecond', ts, ev = 'A', ev = 'B') AS tiny_window
  FROM e WHERE c = '2 one second late';
SELECT leadmgmt.window_funnel('1 hour', ts, ev = 'A', ev = 'B')
  FROM (VALUES ('294276-12-31 23:59:59'::timestamptz, 'A'), ('294276-12-31 23:59:59.5', 'B')) v(ts, ev);

-- 32 steps work, 33 do not
SELECT leadmgmt.window_funnel('1 day', ts, VARIADIC (SELECT array_agg(i = s) FROM generate_series(1, 32) i)) AS level
  FROM generate_series(1, 32) s, LATERAL (SELECT '2026-01-01'::timestamptz + s * interval '1 minute' AS ts) t;

-- bad input: precise SQLSTATEs
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('0', now(), true)$$) AS zero_window;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('-1 hour', now(), true)$$) AS negative_window;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel(NULL, now(), true)$$) AS null_window;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('1 hour', 'strict_order,sideways', now(), true)$$) AS unknown_mode;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('1 hour', now(), VARIADIC (SELECT array_agg(true) FROM generate_series(1, 33)))$$) AS too_many_steps;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('1 hour', now(), VARIADIC '{}'::boolean[])$$) AS no_steps;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('1 hour', now(), VARIADIC '{{true},{false}}'::boolean[])$$) AS two_dimensions;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('1 hour', ts, VARIADIC s)
                      FROM (VALUES (now(), '{true}'::boolean[]), (now(), '{true,false}')) v(ts, s)$$) AS steps_differ;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel(w::interval, now(), true) FROM (VALUES ('1 hour'), ('2 hours')) v(w)$$) AS window_differs;
SELECT pg_temp.err($$SELECT leadmgmt.funnel_transfn(NULL, '1 hour', now(), '{true}')$$) AS outside_aggregate;
-- the overloads with 2 to 8 separate steps (0.6) check the same
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel('0', now(), true, false)$$) AS zero_window_args;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel(NULL, now(), true, false)$$) AS null_window_args;
SELECT pg_temp.err($$SELECT leadmgmt.window_funnel_excluding('1 hour', 'sideways', now(), false, true, false)$$) AS unknown_mode_args;
SELECT pg_temp.err($$SELECT leadmgmt.funnel_detail(w::interval, 'first_entry', now(), true, false, true)
                      FROM (VALUES ('1 hour'), ('2 hours')) v(w)$$) AS window_differs_args;
SELECT pg_temp.err($$SELECT leadmgmt.funnel_excluding_transfn(NULL, '1 hour', '', now(), false, true, true)$$) AS outside_aggregate_args;
SELECT leadmgmt.window_funnel('1 hour', ts, true, false) AS empty_args,
       leadmgmt.window_funnel_excluding('1 hour', '', ts, false, true, false) AS empty_excluding_args,
       leadmgmt.funnel_detail('1 hour', 'first_entry', ts, true, false) AS empty_detail_args
  FROM e WHERE false;
SELECT leadmgmt.window_funnel('1 hour', now(), NULL, NULL) AS untyped_null_flags,
       leadmgmt.window_funnel_excluding('1 hour', '', now(), NULL, true, NULL) AS null_excluded_flag;

-- the state's text form is exact and versioned: v1: and the hex of the binary form
-- (version 1, 2 steps, no mode, window 1 h, events at 2000-01-01 00:00 step A and 00:30 step B)
SELECT 'v1:01020000' || '00000000d693a400' || '00000002'
    || '0000000000000000' || '00000001' || '00' || '000000006b49d200' || '00000002' || '00' AS st \gset
SELECT leadmgmt.funnel_final_level(:'st') AS level, leadmgmt.funnel_final_detail(:'st') AS detail;
SELECT leadmgmt.funnel_state_in(:'st')::text = :'st' AS text_round_trip,
       encode(leadmgmt.funnel_state_send(:'st'), 'hex') = substr(:'st', 4) AS send_is_the_hex;
-- binary receive: through COPY in binary format, out and back in
SELECT '/tmp/leadmgmt_funnel_state_' || pg_backend_pid() || '.bin' AS binfile \gset
CREATE TEMP TABLE states (s leadmgmt.funnel_state);
INSERT INTO states VALUES (:'st');
COPY states TO :'binfile' (FORMAT binary);
SELECT format('cat %s && rm -f %s', :'binfile', :'binfile') AS readback \gset
COPY states FROM PROGRAM :'readback' (FORMAT binary);
SELECT count(*) AS rows, count(DISTINCT s::text) AS distinct_states, min(s::text) = :'st' AS binary_round_trip FROM states;
SELECT pg_temp.err($$SELECT 'v2:0102'::leadmgmt.funnel_state$$) AS wrong_prefix;
SELECT pg_temp.err($$SELECT 'v1:010'::leadmgmt.funnel_state$$) AS odd_hex;
SELECT pg_temp.err($$SELECT ('v1:02020000' || '00000000d693a400' || '00000000')::leadmgmt.funnel_state$$) AS version_2;
SELECT pg_temp.err($$SELECT 'v1:0102000000000000d693a40000000001'::leadmgmt.funnel_state$$) AS missing_event;
SELECT pg_temp.err(format($$SELECT %L::leadmgmt.funnel_state$$, regexp_replace(:'st', '0000000200$', '0000000400'))) AS step_beyond_two;
SELECT pg_temp.err(format($$SELECT %L::leadmgmt.funnel_state$$, replace(:'st', '00000001' || '00', '00000000' || '00'))) AS step_event_without_step;
