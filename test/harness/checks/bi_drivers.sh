#!/usr/bin/env bash
# The views as BI tools see them, through their drivers rather than psql:
# JDBC (Metabase, DBeaver, DataEase: test/bi/JdbcViews.java) and psqlODBC
# (Excel, Power BI, Tableau: test/bi/odbc_views.py), as the restricted role
# lm_bi with reporting access to org 1 of the demo brand.  Both need TCP, so
# this check starts its own throwaway cluster on a free loopback port.
source "$(dirname "$0")/lib.sh"
"$LM_TOP/test/harness/cluster.sh" fresh bi tcp >/dev/null || { not_ok "a cluster on a loopback port starts"; exit 1; }
source "$LM_BASE/bi/env"
db=lm_bi_drivers
psql -X -q -d postgres -f "$LM_TOP/test/pgtap/setup/roles.sql" >/dev/null 2>&1
createdb "$db" &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.01 -v seed=3 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -d "$db" -f "$LM_TOP/test/demo/report.sql" >/dev/null 2>&1 &&
  # the demo's terms end 58 days after its clock: a school that looks 60 days ahead sees its at-risk students
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "UPDATE leadmgmt.org SET at_risk_horizon = '60 days' WHERE org_id = 1" \
    -c "SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting')" >/dev/null &&
  # the demo's leads end with 2025, four months before its clock: a month of
  # leads of February 2026, scored by the active model, whose 30 days have
  # closed, gives model_calibration_recent its rows (since 0.17)
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at, score, scored_at, score_model_id)
    SELECT 1, c.c, c.c, t, t, 0.1, t, m.model_id
      FROM (SELECT min(channel_id) AS c FROM leadmgmt.channel WHERE org_id = 1) c,
           (SELECT model_id FROM leadmgmt.conversion_model WHERE org_id = 1 AND active AND stage = 'contact') m,
           generate_series('2026-02-01 10:00+08'::timestamptz, '2026-02-28 10:00+08', interval '1 day') t" >/dev/null
check "the demo brand is loaded, its model trained, and lm_bi may report on org 1" [ $? -eq 0 ]

java -cp /usr/share/java/postgresql.jar "$LM_TOP/test/bi/JdbcViews.java" \
  "jdbc:postgresql://localhost:$PGPORT/$db" lm_bi 1 >"$LM_TMP/jdbc" 2>&1
rc=$?
cat "$LM_TMP/jdbc"
[ $rc -eq 0 ] || grep -q '^not ok' "$LM_TMP/jdbc" || not_ok "the JDBC check ran"

psql -X -At -d "$db" -c "SELECT string_agg(DISTINCT city, ',' ORDER BY city) FROM leadmgmt.lead_overview WHERE org_id = 1" |
  /usr/bin/python3 "$LM_TOP/test/bi/odbc_views.py" "$PGPORT" "$db" lm_bi 1 >"$LM_TMP/odbc" 2>&1
rc=$?
cat "$LM_TMP/odbc"
[ $rc -eq 0 ] || grep -q '^not ok' "$LM_TMP/odbc" || not_ok "the ODBC check ran"
"$LM_TOP/test/harness/cluster.sh" stop bi
