-- install(): CREATE EXTENSION installs code only; install() creates the
-- tables, views and policies as ordinary objects, records the schema version,
-- and applies only what is missing.  The code names the call to run.
\pset null '<null>'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE hint text;
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (hint: ' || nullif(hint, '') || ')', ''); END $$;

-- the extension holds code only: types, functions, aggregates
SELECT c.relname::regclass AS extension_relation
  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'leadmgmt');
SELECT count(*) AS tables_before FROM pg_tables WHERE schemaname = 'leadmgmt';

-- before install() the code says what to run
SELECT pg_temp.err($$SELECT leadmgmt.create_org('Too early')$$);
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13812345678', 'douyin', NULL, now())$$);

SELECT leadmgmt.install();
SELECT leadmgmt.install();
SELECT version, how FROM leadmgmt.schema_version ORDER BY version;
SELECT count(*) AS tables, count(*) FILTER (WHERE c.relrowsecurity) AS with_rls
  FROM pg_class c WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r';
SELECT count(*) AS views FROM pg_class c WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'v';
-- still not members: pg_dump dumps them like any table
SELECT count(*) AS extension_relations
  FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'leadmgmt');

-- the steps, and the DDL of each (0.10, the schema the members era left, has none)
SELECT leadmgmt.schema_steps();
SELECT step, length(leadmgmt.schema_ddl(step)) > 0 AS has_ddl
  FROM unnest(leadmgmt.schema_steps() || '{full,schema_version}'::text[]) AS step;
SELECT leadmgmt.schema_ddl('0.9') IS NULL AS unknown_step, leadmgmt.schema_ddl(NULL) IS NULL AS null_step;

-- an older schema: the code refuses and names install(), which applies the step
BEGIN;
UPDATE leadmgmt.schema_version SET version = '0.10', how = 'members';
SELECT pg_temp.err($$SELECT leadmgmt.create_org('Old schema')$$);
SELECT leadmgmt.install();
SELECT version, how FROM leadmgmt.schema_version ORDER BY version;
ROLLBACK;

-- a schema newer than the code knows, or tables without their record
BEGIN;
INSERT INTO leadmgmt.schema_version (version, how) VALUES ('9.0', 'step');
SELECT regexp_replace(pg_temp.err('SELECT leadmgmt.install()'), '\(0\.[0-9]+\)', '(VERSION)');
ROLLBACK;
BEGIN;
ALTER TABLE leadmgmt.schema_version RENAME TO schema_version_moved;
SELECT pg_temp.err('SELECT leadmgmt.install()');
SELECT pg_temp.err($$SELECT leadmgmt.create_org('No record')$$);
ROLLBACK;
SELECT pg_temp.err($$INSERT INTO leadmgmt.schema_version (version, how) VALUES ('1.0', 'upgraded')$$);

-- install() is for the owner of the data: PUBLIC may not run it
SELECT has_function_privilege('public', 'leadmgmt.install()', 'EXECUTE') AS public_may_install,
       has_table_privilege('public', 'leadmgmt.schema_version', 'SELECT') AS public_reads_version;
