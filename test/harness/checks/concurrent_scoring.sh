#!/usr/bin/env bash
# Real concurrent sessions (pgbench) write scores and tiers: 6 clients run
# score_leads and refresh_tiers for the same org at once, while another
# trains a new model version.  No client sees an error or a deadlock, and
# every open lead ends up scored by one model.
source "$(dirname "$0")/lib.sh"
db=lm_scoring
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.02 -v seed=3 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SELECT leadmgmt.train_conversion_model(1, 'm', '2025-01-01', '2026-01-01')" >/dev/null
check "a model to score with" [ $? -eq 0 ]
cat >"$LM_TMP/score.sql" <<'SQL'
\set k random(0, 2)
SELECT CASE :k WHEN 0 THEN leadmgmt.score_leads(1) ELSE leadmgmt.refresh_tiers(1) END;
SQL
cat >"$LM_TMP/train.sql" <<'SQL'
SELECT leadmgmt.train_conversion_model(1, 'm', '2025-01-01', '2026-01-01');
SQL
"$LM_PGBIN/pgbench" -n -c 6 -j 3 -t 8 -f "$LM_TMP/score.sql" "$db" >"$LM_TMP/score.log" 2>&1 &
pid=$!
"$LM_PGBIN/pgbench" -n -c 1 -t 2 -f "$LM_TMP/train.sql" "$db" >"$LM_TMP/train.log" 2>&1
rc_train=$?
wait $pid
rc=$?
grep -E 'actually processed|failed' "$LM_TMP/score.log" | sed 's/^/# /'
if [ $rc -eq 0 ] && grep -q 'actually processed: 48/48' "$LM_TMP/score.log"; then
  ok "6 clients scored and re-tiered 48 times at once without an error or deadlock"
else
  not_ok "6 clients scored and re-tiered 48 times at once without an error or deadlock"
fi
check "training new versions meanwhile succeeded" [ $rc_train -eq 0 ]
q() { psql -X -At -d "$db" -c "$1"; }
check "three versions, one active" [ "$(q "SELECT count(*) || '/' || count(*) FILTER (WHERE active) FROM leadmgmt.conversion_model")" = "3/1" ]
check "every open lead is scored, each by a registered model" \
  [ "$(q "SELECT count(*) FROM leadmgmt.lead l WHERE l.status NOT IN ('won', 'lost') AND (l.score IS NULL
          OR NOT EXISTS (SELECT 1 FROM leadmgmt.conversion_model m WHERE m.org_id = l.org_id AND m.model_id = l.score_model_id))")" = 0 ]
dropdb "$db"
