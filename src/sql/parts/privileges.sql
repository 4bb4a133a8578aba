
-- ---------------------------------------------------------------------------
-- Aggregate support functions are not for calling (0.9)
-- ---------------------------------------------------------------------------
-- The transition, combine and final functions of the schema's aggregates take
-- states that only the aggregates make; nobody needs to call them, so PUBLIC
-- may not, nor build aggregates of its own on them.  The aggregates still run
-- for everyone: PostgreSQL checks that the aggregate's owner may execute its
-- support functions, not the caller.  The state types' text and binary I/O
-- stays public (Citus moves partial states as text), and every state is
-- checked completely when it is read.
-- (on a Citus cluster distribute() grants them back: Citus checks the caller)
CREATE FUNCTION @extschema@.aggregate_support_functions() RETURNS SETOF regprocedure
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT DISTINCT s.fn::regprocedure
    FROM pg_aggregate a
    JOIN pg_proc p ON p.oid = a.aggfnoid
   CROSS JOIN LATERAL unnest(ARRAY[a.aggtransfn, a.aggcombinefn, a.aggfinalfn]::oid[]) AS s(fn)
   WHERE p.pronamespace = '@extschema@'::regnamespace AND s.fn <> 0
     AND (SELECT pronamespace FROM pg_proc WHERE oid = s.fn) = '@extschema@'::regnamespace
   ORDER BY 1
$$;
COMMENT ON FUNCTION @extschema@.aggregate_support_functions() IS 'the transition, combine and final functions of the schema''s aggregates: not PUBLIC''s on one node (0.9), PUBLIC''s on a Citus cluster (distribute(), 0.14)';
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT * FROM @extschema@.aggregate_support_functions() LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$$;
