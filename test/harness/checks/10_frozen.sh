#!/usr/bin/env bash
# A landed version's install script is frozen: the script generated from
# src/sql/parts must equal its copy in src/sql/history, so that any change to
# the SQL surface has to become a new version with an upgrade script.
source "$(dirname "$0")/lib.sh"
ver=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$LM_TOP/leadmgmt.control")
frozen=$LM_TOP/src/sql/history/leadmgmt--$ver.sql
if [ -f "$frozen" ]; then
  if cmp -s "$LM_TOP/src/sql/leadmgmt--$ver.sql" "$frozen"; then
    ok "the install script of $ver matches its frozen copy"
  else
    not_ok "src/sql/parts changed but version $ver has landed: bump default_version and write leadmgmt--$ver--NEXT.sql"
    diff "$frozen" "$LM_TOP/src/sql/leadmgmt--$ver.sql" | head -20 | sed 's/^/# /'
  fi
else
  ok "version $ver has not landed yet, so its install script may still change"
fi
# every upgrade script starts from a version that has a frozen install script or another upgrade
for u in "$LM_TOP"/src/sql/history/leadmgmt--*--*.sql; do
  [ -f "$u" ] || continue
  check "upgrade script $(basename "$u") has the CREATE EXTENSION guard" grep -q '\\echo Use "ALTER EXTENSION leadmgmt UPDATE' "$u"
done
