-- leadmgmt 0.7 -> 0.8, built from src/sql/parts: fn:check_org_engine fn:rep_roster

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.8'" to load this file. \quit

CREATE OR REPLACE FUNCTION @extschema@.check_org_engine(org_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'leadmgmt_check_org_engine' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_org_engine(bigint) IS 'raises 42501 unless the current role has app or admin access to the org (or is a superuser): the right to run assignment and recycling';

CREATE OR REPLACE FUNCTION @extschema@.rep_roster(o @extschema@.org, team_id bigint, at timestamptz,
    OUT strategy text, OUT rep_ids bigint[], OUT weights integer[], OUT daily_caps integer[],
    OUT holding_caps integer[], OUT skills integer[])
AS 'MODULE_PATHNAME', 'leadmgmt_rep_roster' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rep_roster(@extschema@.org, bigint, timestamptz) IS 'the strategy (the team''s, else the org''s) and the reps that may get leads at a time: active, of the team if one is given, on shift in the org time zone (a rep without shifts always is), with weights, caps and tier skills as plan_assignments takes them (bit t: skilled for tier t; bit 4+t: the tier policy''s handler role)';

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
