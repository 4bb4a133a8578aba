#!/usr/bin/env bash
# What has landed is frozen.  src/sql/history holds one base install script
# (0.1) and the upgrade scripts; PostgreSQL installs any version as the base
# plus the shortest chain of upgrades.  This check fails when
#   - a landed script changed (its sha256 in src/sql/history/landed.sha256),
#   - a script other than the newest version's upgrade is not recorded there,
#   - any landed version, installed through the chain, no longer gives the
#     catalog it had when it landed (test/harness/catalogs.txt; this also
#     freezes src/sql/parts once the newest version has landed).
# test/harness/landed.sh records a version once it has landed.
source "$(dirname "$0")/lib.sh"
ver=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$LM_TOP/leadmgmt.control")
hist=$LM_TOP/src/sql/history
bases=$(cd "$hist" && ls leadmgmt--*.sql | grep -vc -- '--.*--' || true)
check "src/sql/history holds one base install script and upgrade scripts only" [ "$bases" -eq 1 ]

while read -r sum file; do
  if [ ! -f "$hist/$file" ]; then not_ok "landed script $file is missing"
  elif [ "$(sha256sum <"$hist/$file" | cut -d' ' -f1)" = "$sum" ]; then ok "landed script $file is unchanged"
  else not_ok "landed script $file changed: write a new version with its upgrade script instead"; fi
done <"$hist/landed.sha256"
for f in "$hist"/leadmgmt--*.sql; do
  b=$(basename "$f")
  grep -q "  $b\$" "$hist/landed.sha256" && continue
  case "$b" in
    *--"$ver".sql) ok "$b leads to $ver, which has not landed yet, so it may still change" ;;
    *) not_ok "$b is neither recorded in landed.sha256 nor the upgrade to the newest version $ver" ;;
  esac
  check "upgrade script $b has the CREATE EXTENSION guard" grep -q '\\echo Use "ALTER EXTENSION leadmgmt UPDATE' "$f"
done

major=$(psql -X -At -d postgres -c "SHOW server_version_num" | cut -c1-2)
grep -q "^pg$major " "$LM_TOP/test/harness/catalogs.txt" ||
  ok "no recorded catalogs for PostgreSQL $major (they are PostgreSQL 15's): skipped"
grep "^pg$major " "$LM_TOP/test/harness/catalogs.txt" | while read -r _ v sum lines; do
  dropdb --if-exists lm_freeze; createdb lm_freeze
  # since 0.11 a version's catalog is its code plus the schema its install() creates
  psql -X -q -v ON_ERROR_STOP=1 -d lm_freeze -c "CREATE EXTENSION leadmgmt VERSION '$v'" \
    -c "SELECT leadmgmt.install() WHERE to_regprocedure('leadmgmt.install()') IS NOT NULL" >"$LM_TMP/out" 2>&1
  psql -X -q -d lm_freeze -f "$LM_TOP/test/harness/catalog.sql" >"$LM_TMP/$v.cat" 2>>"$LM_TMP/out"
  if [ "$(md5sum <"$LM_TMP/$v.cat" | cut -c1-32)" = "$sum" ]; then
    ok "version $v installs through the upgrade chain with the catalog it landed with ($lines lines)"
  else
    not_ok "version $v installs with the catalog it landed with ($lines lines; now $(wc -l <"$LM_TMP/$v.cat"))"
    sed 's/^/# /' "$LM_TMP/out" | head -5
    [ "$v" = "$ver" ] && echo "# src/sql/parts changed after $ver landed: bump default_version and write leadmgmt--$ver--NEXT.sql"
  fi
done
grep -q "^pg$major $ver " "$LM_TOP/test/harness/catalogs.txt" ||
  ok "version $ver has not landed yet, so src/sql/parts may still change"
dropdb --if-exists lm_freeze
