
-- ---------------------------------------------------------------------------
-- Code in the extension, data outside it (since 0.11; docs/dba/install.md)
--
-- CREATE EXTENSION leadmgmt installs code only: types, functions and
-- aggregates.  leadmgmt.install() creates the tables, their constraints,
-- indexes, triggers and policies, and the views, as ordinary objects of the
-- schema, from the files of src/sql/schema: pg_dump dumps them like any
-- table (a restore runs CREATE EXTENSION, then the dumped tables), Citus can
-- distribute them, and a DBA may alter them.
--
-- The schema is versioned.  schema_version records every step applied;
-- install() applies only what is missing, so running it again is safe.  A
-- fresh database gets the whole schema at once ('full'), an older one the
-- steps after its version; both end with the same catalog (make test checks
-- it).  The code checks the schema it meets (require_schema) and names the
-- call to run.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.schema_steps() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{0.10,0.11}'::text[] $$;
COMMENT ON FUNCTION @extschema@.schema_steps() IS 'the versions of leadmgmt''s schema, oldest first: 0.10 is the schema of the versions whose tables were members of the extension (0.1-0.10), then every version that changed it; the last is the one this code needs';

-- The DDL of each step.  'full' is src/sql/schema/*.sql, the whole schema of
-- the newest step; every other step turns the schema of the step before into
-- its own.  A landed step is frozen like the rest of a landed script.
CREATE FUNCTION @extschema@.schema_ddl(step text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $schema_ddl$
SELECT CASE step
WHEN 'full' THEN $full$
-- @schema@ (the Makefile puts src/sql/schema/*.sql here)
$full$
WHEN 'schema_version' THEN $schema_version$
CREATE TABLE @extschema@.schema_version (
  version     text NOT NULL,
  how         text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schema_version_pkey PRIMARY KEY (version),
  CONSTRAINT schema_version_how_check CHECK (how IN ('full', 'step', 'members'))
);
COMMENT ON TABLE @extschema@.schema_version IS 'the steps of leadmgmt''s schema applied in this database, written by install(); the code checks it (require_schema)';
COMMENT ON COLUMN @extschema@.schema_version.version IS 'a schema version (an element of schema_steps())';
COMMENT ON COLUMN @extschema@.schema_version.how IS 'full: the whole schema of this version at once; step: from the version before; members: the tables were members of the extension until ALTER EXTENSION UPDATE made them ordinary';
COMMENT ON COLUMN @extschema@.schema_version.applied_at IS 'when';
GRANT SELECT ON @extschema@.schema_version TO PUBLIC;
$schema_version$
WHEN '0.11' THEN $step$
COMMENT ON TABLE @extschema@.rep_load IS 'engine state, derived: each rep''s open leads and today''s assignments and claims, kept under the org''s assignment lock and rebuilt from lead and assignment when missing';
COMMENT ON TABLE @extschema@.rep_load_change IS 'engine state, derived: changes of open leads per rep written by the lead trigger without waiting for any lock, folded into rep_load by the next engine call';
COMMENT ON TABLE @extschema@.assign_rotation IS 'engine state: the smooth weighted round-robin of each org';
COMMENT ON TABLE @extschema@.assign_pick IS 'engine state: the pick journal, one row per assign_lead or assign_pending call since the last fold; the engine reads it with a dirty snapshot, so picks in flight count and rolled-back ones vanish; rep_load_sync folds settled rows into assign_rotation and rep_load (no foreign key: its rows live for seconds, and a key check would lock the org row in every call)';
-- rep_workload reads the org's clock through a join, which Citus can push down
CREATE OR REPLACE VIEW @extschema@.rep_workload WITH (security_invoker = true) AS
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
$step$
END
$schema_ddl$;
COMMENT ON FUNCTION @extschema@.schema_ddl(text) IS 'the DDL install() runs: ''full'' for the whole schema, ''schema_version'' for its own record, or a version of schema_steps() for the step from the version before; NULL for anything else';

CREATE FUNCTION @extschema@.install() RETURNS text
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  steps text[] := @extschema@.schema_steps();
  newest text := steps[cardinality(steps)];
  have text;
  done text[] := '{}';
  s text;
BEGIN
  -- one install at a time in a database
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leadmgmt.install'), 0);
  IF pg_catalog.to_regclass('@extschema@.schema_version') IS NULL THEN
    IF pg_catalog.to_regclass('@extschema@.org') IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = '55000',
        MESSAGE = 'leadmgmt''s tables exist but its schema_version table does not',
        DETAIL = 'install() cannot tell which steps of the schema they have.',
        HINT = 'Restore leadmgmt.schema_version with the rest of the dump, or drop the tables of the schema leadmgmt.';
    END IF;
    EXECUTE @extschema@.schema_ddl('full');
    EXECUTE @extschema@.schema_ddl('schema_version');
    INSERT INTO @extschema@.schema_version (version, how) VALUES (newest, 'full');
    PERFORM @extschema@.apply_policies();
    RETURN format('installed schema %s', newest);
  END IF;

  SELECT v.version INTO have FROM @extschema@.schema_version v
   ORDER BY pg_catalog.string_to_array(v.version, '.')::int[] DESC LIMIT 1;
  IF have IS NULL OR NOT have = ANY (steps) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('leadmgmt''s schema is at version %s, which this code (%s) does not know', coalesce(have, 'none'),
                       @extschema@.version()),
      HINT = 'Update the extension: ALTER EXTENSION leadmgmt UPDATE, then run leadmgmt.install() again.';
  END IF;
  FOREACH s IN ARRAY steps LOOP
    IF pg_catalog.string_to_array(s, '.')::int[] > pg_catalog.string_to_array(have, '.')::int[] THEN
      EXECUTE @extschema@.schema_ddl(s);
      INSERT INTO @extschema@.schema_version (version, how) VALUES (s, 'step');
      done := done || s;
    END IF;
  END LOOP;
  -- always: the policies of this code, and the group roles and privileges of
  -- every granted role (after a restore into a database of another name, the
  -- group roles of its grants do not exist yet: access.c)
  PERFORM @extschema@.apply_policies();
  PERFORM @extschema@.apply_privileges(r.oid::regrole)
     FROM (SELECT DISTINCT g.role_name FROM @extschema@.access_grant g) g
     JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
  IF cardinality(done) = 0 THEN
    RETURN format('schema %s is up to date', have);
  END IF;
  RETURN format('updated schema %s to %s (steps %s)', have, newest, array_to_string(done, ', '));
END
$$;
REVOKE ALL ON FUNCTION @extschema@.install() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.install() IS 'creates leadmgmt''s tables, constraints, indexes, triggers and views (the whole schema in a new database), or applies the steps of the schema that are missing after ALTER EXTENSION leadmgmt UPDATE; then (re)applies the policies (apply_policies) and, in a database that has them, the group roles and privileges of every granted role; safe to run again; returns what it did';

CREATE FUNCTION @extschema@.require_schema() RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  steps text[] := @extschema@.schema_steps();
  have text;
BEGIN
  IF to_regclass('@extschema@.schema_version') IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = 'leadmgmt''s tables are not installed in this database',
      HINT = 'Run SELECT leadmgmt.install(); as the role that owns the data (docs/dba/install.md).';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.schema_version v WHERE v.version = steps[cardinality(steps)]) THEN
    SELECT v.version INTO have FROM @extschema@.schema_version v
     ORDER BY string_to_array(v.version, '.')::int[] DESC LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('leadmgmt''s schema is at version %s, but its code needs %s', coalesce(have, 'none'),
                       steps[cardinality(steps)]),
      HINT = 'Run SELECT leadmgmt.install(); to apply the missing steps (docs/dba/install.md).';
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.require_schema() IS 'raises 55000, naming the call to run (leadmgmt.install()), unless the schema this code needs is installed; the org lookups of the write functions call it';
