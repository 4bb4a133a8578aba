#!/usr/bin/env bash
# The edge sweep (test/harness/edges.py): every public function, with valid
# arguments and then each argument at the edges of its type (NULL, empty and
# over-long strings, NaN and infinities, far past and future times, unknown
# and another tenant's orgs and rows), as the app role of org 2; every
# outcome (ok or the SQLSTATE) is the one test/edges/sweep.tsv records.
# EDGES_WRITE=1 writes the outcomes there instead of comparing (to review).
source "$(dirname "$0")/lib.sh"
db=lm_edges
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.003 -v seed=4 -v org_name='Edge One' -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.003 -v seed=5 -v org_name='Edge Two' -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_edges_app') THEN CREATE ROLE lm_edges_app LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_edges_target') THEN CREATE ROLE lm_edges_target; END IF;
END $$;
SELECT leadmgmt.grant_access('lm_edges_app', 2, 'app');
-- a model in each org (the demo's history is older than the clock allows an app)
SELECT leadmgmt.train_conversion_model(o, 'edge', '-infinity', 'infinity') FROM generate_series(1, 2) o;
-- and a leave in org 1, another tenant's leave for org 2's app
SELECT leadmgmt.add_leave(1, (SELECT min(rep_id) FROM leadmgmt.sales_rep WHERE org_id = 1), '2030-01-01', '2030-01-05');
SQL
check "edge sweep database loaded, role lm_edges_app has app access to org 2" [ $? -eq 0 ]
write=()
[ -n "${EDGES_WRITE:-}" ] && write=(--write "$LM_TOP/test/edges/sweep.tsv")
start=$(date +%s)
/usr/bin/python3 "$LM_TOP/test/harness/edges.py" "dbname=$db" "dbname=$db user=lm_edges_app" \
  "$LM_TOP/docs/reference/internals.md" "$LM_TOP/test/edges/sweep.tsv" "${write[@]}"
echo "# the sweep took $(( $(date +%s) - start )) s"
dropdb "$db"
