#!/usr/bin/env bash
# test/harness/landed.sh -- record that the newest version has landed (CI
# passed on main): its upgrade script joins src/sql/history/landed.sha256 and
# the catalog of a fresh install joins test/harness/catalogs.txt, so that the
# freeze check fails when either changes afterwards.  Run it on a running test
# cluster ('make test' leaves one), once, in the first session after landing.
source "$(dirname "$0")/common.sh"
source "$LM_BASE/${LM_CLUSTER:-test}/env"
ver=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$LM_TOP/leadmgmt.control")
hist=$LM_TOP/src/sql/history
cd "$hist"
for f in leadmgmt--*.sql; do
  grep -q "  $f\$" landed.sha256 || sha256sum "$f" >>landed.sha256
done
major=$(psql -X -At -d postgres -c "SHOW server_version_num" | cut -c1-2)
if ! grep -q "^pg$major $ver " "$LM_TOP/test/harness/catalogs.txt"; then
  dropdb --if-exists lm_landed; createdb lm_landed
  psql -X -q -v ON_ERROR_STOP=1 -d lm_landed -c "CREATE EXTENSION leadmgmt VERSION '$ver'" \
    -c "SELECT leadmgmt.install() WHERE to_regprocedure('leadmgmt.install()') IS NOT NULL" >/dev/null
  psql -X -q -d lm_landed -f "$LM_TOP/test/harness/catalog.sql" >"$LM_BASE/landed.cat"
  echo "pg$major $ver $(md5sum <"$LM_BASE/landed.cat" | cut -c1-32) $(wc -l <"$LM_BASE/landed.cat")" >>"$LM_TOP/test/harness/catalogs.txt"
  dropdb lm_landed
fi
echo "version $ver recorded as landed"
