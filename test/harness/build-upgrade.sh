#!/usr/bin/env bash
# test/harness/build-upgrade.sh FROM TO ITEM... -- write
# src/sql/history/leadmgmt--FROM--TO.sql from the install parts.  Each ITEM is
#   PART       a whole part the version adds (its name without .sql)
#   fn:NAME    a function the version changes or adds in an existing part: its
#              CREATE FUNCTION ... through its COMMENT ON FUNCTION, taken from
#              the parts as CREATE OR REPLACE FUNCTION
#   view:NAME  a view to bind again to what the version adds (a new overload),
#              from src/sql/parts or (since 0.11) src/sql/schema:
#              its CREATE VIEW ... through the first line ending in ';', taken
#              from the parts as CREATE OR REPLACE VIEW (columns, comments and
#              grants stay)
#   sql:TEXT   a statement written as is (a DROP of what the version removes)
# For the version under development only: once it lands, its upgrade script
# is frozen and edited by nobody.
source "$(dirname "$0")/common.sh"
from=${1:?usage: build-upgrade.sh FROM TO PART...}; to=${2:?}; shift 2
out=$LM_TOP/src/sql/history/leadmgmt--$from--$to.sql
schema=$(mktemp); trap 'rm -f "$schema"' EXIT
(cd "$LM_TOP" && cat $(make -s --no-print-directory schema-parts)) >"$schema"
# '-- @schema NAME@' takes src/sql/schema/NAME.sql (a schema step's DDL), as in the Makefile
# and '-- @view NAME@' a view's CREATE VIEW from them, as CREATE OR REPLACE VIEW (views.awk)
steps=(); parts=""
for f in $(cd "$LM_TOP" && make -s --no-print-directory schema-parts); do
  n=$(basename "$f" .sql); steps+=(-e "/^-- @schema $n@ /{r $LM_TOP/$f" -e 'd;}'); parts="$parts $LM_TOP/$f"
done
{
  summary=$(for item in "$@"; do case $item in sql:*) printf 'sql ' ;; *) printf '%s ' "$item" ;; esac; done)
  printf -- '-- leadmgmt %s -> %s, built from src/sql/parts: %s\n\n' "$from" "$to" "${summary% }"
  printf -- '-- complain if script is sourced in psql, rather than via ALTER EXTENSION\n'
  printf -- '\\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '"'"'%s'"'"'" to load this file. \\quit\n' "$to"
  for item in "$@"; do
    echo
    case $item in
      sql:*) printf '%s\n' "${item#sql:}" ;;
      fn:*)
        name=${item#fn:}
        text=$(awk -v name="$name" '
          index($0, "CREATE FUNCTION @extschema@." name "(") == 1 || index($0, "CREATE OR REPLACE FUNCTION @extschema@." name "(") == 1 {
            on = 1; sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION")}
          on {print}
          on && index($0, "COMMENT ON FUNCTION @extschema@." name "(") == 1 {exit}' "$LM_TOP"/src/sql/parts/*.sql)
        if [ -z "$text" ]; then echo "build-upgrade.sh: no function $name in src/sql/parts" >&2; exit 1; fi
        # schema_ddl() holds src/sql/schema (since 0.12 a changed function)
        printf '%s\n' "$text" | sed -e "/^-- @schema@ /{r $schema" -e 'd;}' "${steps[@]}" |
          awk -v schema="$parts" -f "$LM_TOP/test/harness/views.awk" ;;
      view:*)
        name=${item#view:}
        text=$(awk -v name="$name" '
          index($0, "CREATE VIEW @extschema@." name " ") == 1 {on = 1; sub(/^CREATE VIEW/, "CREATE OR REPLACE VIEW")}
          on {print}
          on && /;$/ {exit}' "$LM_TOP"/src/sql/parts/*.sql "$LM_TOP"/src/sql/schema/*.sql)
        if [ -z "$text" ]; then echo "build-upgrade.sh: no view $name in src/sql/parts or src/sql/schema" >&2; exit 1; fi
        printf '%s\n' "$text" ;;
      # the install part's schema_ddl() holds src/sql/schema, as in the Makefile
      *) sed -e "/^-- @schema@ /{r $schema" -e 'd;}' "${steps[@]}" "$LM_TOP/src/sql/parts/$item.sql" |
           awk -v schema="$parts" -f "$LM_TOP/test/harness/views.awk" ;;
    esac
  done
  # since 0.12 install(), which an update asks for, applies the privileges of
  # every granted role to the new tables and views (until 0.11 the script did)
} >"$out"
echo "wrote $out"
