
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
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT DISTINCT s.fn::regprocedure
             FROM pg_catalog.pg_aggregate a
             JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
            CROSS JOIN LATERAL unnest(ARRAY[a.aggtransfn, a.aggcombinefn, a.aggfinalfn]::oid[]) AS s(fn)
            WHERE p.pronamespace = '@extschema@'::regnamespace AND s.fn <> 0
              AND (SELECT pronamespace FROM pg_catalog.pg_proc WHERE oid = s.fn) = '@extschema@'::regnamespace
            ORDER BY 1 LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$$;
