/*
 * leadmgmt install script.  GENERATED from the files of src/sql/parts (one
 * per capability, in the order the Makefile lists) by the Makefile; edit the
 * parts, never the generated file.  Once a version has landed it is frozen,
 * and changes go into a new version with its upgrade script
 * (docs/dba/layout.md).
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION leadmgmt" to load this file. \quit

COMMENT ON SCHEMA @extschema@ IS
  'leadmgmt: lead management, funnel, attribution and cohort analytics for education brands';

-- Views must be security_invoker (PostgreSQL 15) or they would bypass
-- row-level security: refuse older servers rather than install unsafely.
DO $$
BEGIN
  IF current_setting('server_version_num')::int < 150000 THEN
    RAISE EXCEPTION USING ERRCODE = '0A000',
      MESSAGE = format('leadmgmt needs PostgreSQL 15 or later, this is %s', current_setting('server_version')),
      HINT = 'Its views are security_invoker so that row-level security applies to them.';
  END IF;
END
$$;

-- the library's own version: a script and a library of different versions
-- are a broken install (make test checks that they agree)
CREATE FUNCTION @extschema@.version() RETURNS text
AS 'MODULE_PATHNAME', 'leadmgmt_version' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.version() IS 'the version the loaded leadmgmt library was built as; equals the extension''s version (pg_extension.extversion) in a sound install';
