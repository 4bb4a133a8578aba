#!/usr/bin/env bash
# km_fit, km_curve, km_median and logrank against an independent reference:
# Debian's python3-statsmodels (SurvfuncRight, survdiff) on random data.
source "$(dirname "$0")/lib.sh"
db=lm_survival_ref
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null
/usr/bin/python3 "$LM_TOP/test/reference/survival_statsmodels.py" "$db" 2>&1 ||
  not_ok "the statsmodels comparison ran to the end"
dropdb --if-exists "$db"
