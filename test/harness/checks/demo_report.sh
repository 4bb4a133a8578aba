#!/usr/bin/env bash
# The demo report (test/demo/report.sql, what 'make demo' prints) runs without
# an error over a small demo brand, and prints the same on every clock: the
# first pass of the suite keeps its output, the moved-clock pass compares.
source "$(dirname "$0")/lib.sh"
db=lm_report
keep=$LM_TOP/.build/test/demo-report.txt
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.02 -v seed=7 -f "$LM_TOP/test/demo/generate.sql" >/dev/null
check "demo brand loaded" [ $? -eq 0 ]
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$LM_TOP/test/demo/report.sql" >"$LM_TMP/report.txt" 2>"$LM_TMP/err"
if [ $? -eq 0 ] && [ ! -s "$LM_TMP/err" ]; then
  ok "the demo report runs without an error ($(wc -l <"$LM_TMP/report.txt") lines)"
else
  not_ok "the demo report runs without an error ($(wc -l <"$LM_TMP/report.txt") lines)"
fi
[ -s "$LM_TMP/err" ] && sed 's/^/# /' "$LM_TMP/err" | head -5
if [ -z "${LM_FAKETIME:-}" ]; then
  cp "$LM_TMP/report.txt" "$keep"
elif [ -f "$keep" ]; then
  if diff "$keep" "$LM_TMP/report.txt" >"$LM_TMP/diff"; then
    ok "the demo report is the same with the server's clock moved $LM_FAKETIME"
  else
    not_ok "the demo report is the same with the server's clock moved $LM_FAKETIME"; head -20 "$LM_TMP/diff" | sed 's/^/# /'
  fi
fi
dropdb "$db"
