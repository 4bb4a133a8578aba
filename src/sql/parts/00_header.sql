/*
 * leadmgmt install script.  GENERATED from the files of src/sql/parts by the
 * Makefile; edit the parts, never the generated file.  Once a version has
 * landed its script is frozen in src/sql/history/ and changes go into an
 * upgrade script (docs/dba/layout.md).
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION leadmgmt" to load this file. \quit

COMMENT ON SCHEMA @extschema@ IS
  'leadmgmt: lead management, funnel, attribution and cohort analytics for education brands';
