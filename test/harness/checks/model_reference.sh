#!/usr/bin/env bash
# logreg_train against an independent reference: Debian's python3-statsmodels
# Logit on generated data; auc and log_loss against exact formulas.
source "$(dirname "$0")/lib.sh"
db=lm_logreg_ref
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null
/usr/bin/python3 "$LM_TOP/test/reference/model_statsmodels.py" "$db" 2>&1 ||
  not_ok "the statsmodels comparison ran to the end"
dropdb --if-exists "$db"
