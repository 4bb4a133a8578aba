#!/usr/bin/env bash
# test/harness/build-upgrade.sh FROM TO PART... -- write
# src/sql/history/leadmgmt--FROM--TO.sql from the install parts a version
# adds (names without .sql), followed by re-applying the privileges of roles
# granted before the update.  For the version under development only: once it
# lands, its upgrade script is frozen and edited by nobody.  Upgrades that
# must ALTER what exists are written by hand instead.
source "$(dirname "$0")/common.sh"
from=${1:?usage: build-upgrade.sh FROM TO PART...}; to=${2:?}; shift 2
out=$LM_TOP/src/sql/history/leadmgmt--$from--$to.sql
{
  printf -- '-- leadmgmt %s -> %s, built from src/sql/parts: %s\n\n' "$from" "$to" "$*"
  printf -- '-- complain if script is sourced in psql, rather than via ALTER EXTENSION\n'
  printf -- '\\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '"'"'%s'"'"'" to load this file. \\quit\n' "$to"
  for part in "$@"; do echo; cat "$LM_TOP/src/sql/parts/$part.sql"; done
  cat <<'SQL'

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
SQL
} >"$out"
echo "wrote $out"
