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
