#!/usr/bin/env bash
# The demo report as a page (what 'make demo' writes): built from a small demo
# brand through the views, opened in Debian's Chromium, headless: no console
# error and no network request (it works offline), every chart drawn with
# data and its reading, and the numbers in the charts equal the same figures
# queried in SQL.  The page and its screenshot stay under .build/.
source "$(dirname "$0")/lib.sh"
db=lm_page
out=$LM_TOP/.build/test/${LM_CLUSTER:-test}/demo-page
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.02 -v seed=7 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$LM_TOP/test/demo/report.sql" >/dev/null
check "demo brand loaded, its model trained" [ $? -eq 0 ]
"$LM_TOP/test/harness/page.sh" "$db" "$out" >"$LM_TMP/page.log" 2>&1
if [ $? -eq 0 ] && [ -s "$out/report.html" ]; then
  ok "the page is built: $out/report.html ($(du -k "$out/report.html" 2>/dev/null | cut -f1) kB, ECharts embedded)"
else
  not_ok "the page is built: $out/report.html ($(du -k "$out/report.html" 2>/dev/null | cut -f1) kB, ECharts embedded)"
fi
[ -s "$out/report.html" ] || sed 's/^/# /' "$LM_TMP/page.log" | tail -20
# check.mjs imports playwright-core: it runs beside the installed packages
cp "$LM_TOP/test/demo/page/check.mjs" "$LM_TOP/.build/page/check.mjs"
timeout 180 node "$LM_TOP/.build/page/check.mjs" "$out/report.html" "$out/report.png" "$out/charts.json" >"$LM_TMP/check" 2>&1
rc=$?
cat "$LM_TMP/check"
[ $rc -eq 0 ] || grep -q '^not ok' "$LM_TMP/check" || not_ok "the page opens in headless Chromium"
PGDATABASE=$db /usr/bin/python3 "$LM_TOP/test/demo/page/compare.py" "$out/charts.json"
[ "$(id -u)" -eq 0 ] && chmod -R a+rwX "$out" 2>/dev/null
dropdb "$db"
