-- ---------------------------------------------------------------------------
-- Funnel engine (src/funnel.c, docs/reference/funnel.md): since 0.2
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
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[]) IS 'transition of window_funnel(win, mode, ts, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
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
        ('funnel_transfn', 'interval, timestamptz', 'leadmgmt_funnel_transfn',
         'window_funnel(win, ts, ...) and funnel_detail(win, ts, ...)'),
        ('funnel_transfn', 'interval, text, timestamptz', 'leadmgmt_funnel_transfn',
         'window_funnel(win, mode, ts, ...) and funnel_detail(win, mode, ts, ...)'),
        ('funnel_excluding_transfn', 'interval, text, timestamptz, boolean', 'leadmgmt_funnel_excluding_transfn',
         'window_funnel_excluding(win, mode, ts, excluded, ...)')
      ) v(name, args, symbol, serves)
    LOOP
      EXECUTE format('CREATE FUNCTION @extschema@.%I(@extschema@.funnel_state, %s, %s) '
                     'RETURNS @extschema@.funnel_state AS %L, %L LANGUAGE C IMMUTABLE PARALLEL SAFE',
                     t.name, t.args, flags, 'MODULE_PATHNAME', t.symbol);
      EXECUTE format('COMMENT ON FUNCTION @extschema@.%I(@extschema@.funnel_state, %s, %s) IS %L',
                     t.name, t.args, flags, format('transition of %s with %s steps as separate arguments', t.serves, n));
    END LOOP;

    -- the aggregates: the VARIADIC ones above, with the steps spelt out
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
