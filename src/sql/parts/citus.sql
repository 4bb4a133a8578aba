
-- ---------------------------------------------------------------------------
-- Citus (since 0.11; docs/dba/citus.md): distribute() turns the schema that
-- install() made into a Citus one: every tenant table distributed by org_id
-- in one colocation group with org, schema_version a reference table, and
-- every write function that takes org_id delegated to the node holding it.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.distribute(shard_count integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
  pending name[];
  ready name[];
  t name;
  f regprocedure;
  v record;
  n_tables int := 0;
  n_functions int := 0;
  grant_support text;
  failed text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'citus is not installed in this database',
      HINT = 'leadmgmt.distribute() runs on a Citus coordinator, after CREATE EXTENSION citus and leadmgmt.install() (docs/dba/citus.md).';
  END IF;
  IF shard_count IS NOT NULL AND shard_count NOT BETWEEN 1 AND 64000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('shard_count must be between 1 and 64000, not %s', shard_count);
  END IF;
  PERFORM @extschema@.require_schema();
  -- the triggers run on the shards, and touch only rows of the same org
  PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
  IF shard_count IS NOT NULL THEN
    PERFORM set_config('citus.shard_count', shard_count::text, true);
  END IF;

  -- schema_version belongs to no org: a copy on every node
  IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.schema_version'::regclass) THEN
    EXECUTE 'SELECT create_reference_table(''@extschema@.schema_version'')';
  END IF;

  -- the tenant tables, each after the tables its foreign keys reference
  SELECT coalesce(array_agg(c.relname ORDER BY c.relname), '{}') INTO pending
    FROM pg_class c
   WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r' AND c.relname <> 'schema_version'
     AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid);
  WHILE cardinality(pending) > 0 LOOP
    SELECT coalesce(array_agg(t2 ORDER BY t2), '{}') INTO ready
      FROM unnest(pending) AS t2
     WHERE NOT EXISTS (
             SELECT 1 FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
              WHERE k.conrelid = format('@extschema@.%I', t2)::regclass AND k.contype = 'f'
                AND r.relname <> t2 AND r.relname = ANY (pending));
    IF cardinality(ready) = 0 THEN
      RAISE EXCEPTION USING ERRCODE = '55000',
        MESSAGE = format('cannot order the distribution of %s by their foreign keys', array_to_string(pending, ', '));
    END IF;
    -- org first: every other table is colocated with it
    IF 'org' = ANY (ready) THEN
      ready := ARRAY['org']::name[];
    END IF;
    FOREACH t IN ARRAY ready LOOP
      IF t = 'org' THEN
        EXECUTE 'SELECT create_distributed_table(''@extschema@.org'', ''org_id'')';
      ELSE
        EXECUTE format('SELECT create_distributed_table(%L, ''org_id'', colocate_with => ''@extschema@.org'')',
                       format('@extschema@.%I', t));
      END IF;
      n_tables := n_tables + 1;
    END LOOP;
    pending := ARRAY(SELECT x FROM unnest(pending) x WHERE x <> ALL (ready));
  END LOOP;

  -- a view a schema step made over a table not yet distributed was created
  -- on this node only (Citus warns so): made again now that its tables are
  -- distributed, Citus creates it on every node (since 0.17), oldest first,
  -- so that a view over another view comes after it
  FOR v IN SELECT c.oid::regclass AS rel, pg_get_viewdef(c.oid) AS def, c.reloptions AS opts
             FROM pg_class c
            WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'v'
              AND NOT EXISTS (SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid)
            ORDER BY c.oid LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', v.rel,
                   CASE WHEN v.opts IS NOT NULL THEN ' WITH (' || array_to_string(v.opts, ', ') || ')' ELSE '' END, v.def);
  END LOOP;

  -- the write functions that take the org first run where the org's shards are
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = '@extschema@'::regnamespace AND p.prokind = 'f' AND p.provolatile = 'v'
              AND p.pronargs >= 1 AND p.proargtypes[0] = 'bigint'::regtype AND (p.proargnames)[1] = 'org_id'
              AND NOT EXISTS (SELECT 1 FROM pg_dist_object o
                               WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid AND o.distribution_argument_index IS NOT NULL)
            ORDER BY 1 LOOP
    EXECUTE format('SELECT create_distributed_function(%L, ''org_id'', colocate_with => ''@extschema@.org'')', f::text);
    n_functions := n_functions + 1;
  END LOOP;
  -- Citus runs an aggregate over many shards as worker_partial_agg on the
  -- workers and coord_combine_agg on the coordinator, which check that the
  -- caller (not, as PostgreSQL does, the aggregate's owner) may execute its
  -- support functions: on a cluster they are PUBLIC's again, on every node
  -- (since 0.14; an extension's functions are not Citus objects, so their
  -- grants do not propagate).  Every state is checked when it is read.
  SELECT 'GRANT EXECUTE ON FUNCTION ' || string_agg(s.fn::text, ', ') || ' TO PUBLIC' INTO grant_support
    FROM @extschema@.aggregate_support_functions() AS s(fn);
  EXECUTE grant_support;
  SELECT string_agg(format('%s:%s: %s', w.nodename, w.nodeport, w.result), '; ') INTO failed
    FROM run_command_on_workers(grant_support) w WHERE NOT w.success;
  IF failed IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'could not grant the aggregates'' support functions on every worker',
      DETAIL = failed;
  END IF;
  RETURN format('distributed %s tables by org_id and %s functions by their org_id', n_tables, n_functions);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.distribute(integer) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.distribute(integer) IS 'on a Citus coordinator, after install(): distributes every tenant table by org_id in one colocation group with org (schema_version becomes a reference table) and delegates every write function taking org_id to the node that holds the org; makes again on every node the views a schema step created on this node only (since 0.17); grants EXECUTE on the aggregates'' support functions to PUBLIC on every node, since Citus checks the caller''s right to them (since 0.14; call it again after adding a node); idempotent; 55000 without Citus';
