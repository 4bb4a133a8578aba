#!/usr/bin/env bash
# test/harness/demo.sh SCALE -- load the demo brand into a fresh database of
# the demo cluster, print a short report, and leave the cluster running.
source "$(dirname "$0")/common.sh"
scale=${1:-1}
"$LM_TOP/test/harness/cluster.sh" ensure demo tcp
source "$LM_BASE/demo/env"
db=leadmgmt_demo

lm_say "loading the demo brand at scale $scale into database $db"
PGOPTIONS='-c client_min_messages=warning' dropdb --if-exists --force "$db" >/dev/null
createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()'
start=$(date +%s)
psql -X -q -d "$db" -v scale="$scale" -v seed=42 -v progress=1 -f "$LM_TOP/test/demo/generate.sql" >/dev/null
psql -X -q -At -d "$db" -c "SELECT format('loaded in %s s: %s leads, %s touchpoints, %s funnel events, %s follow-ups, %s students, %s attendance rows',
   $(date +%s) - $start,
   (SELECT count(*) FROM leadmgmt.lead), (SELECT count(*) FROM leadmgmt.touchpoint),
   (SELECT count(*) FROM leadmgmt.lead_event), (SELECT count(*) FROM leadmgmt.follow_up),
   (SELECT count(*) FROM leadmgmt.student), (SELECT count(*) FROM leadmgmt.attendance))"
psql -X -q -d "$db" -f "$LM_TOP/test/demo/report.sql"
lm_say "writing the report as a page"
page=$("$LM_TOP/test/harness/page.sh" "$db" "$LM_TOP/.build/demo")

cat <<MSG

The report as a page, with its charts (opens offline in any browser):

  $page

The demo cluster is still running. Connect with:

  psql "postgresql://postgres@localhost:$PGPORT/$db"

(BI tools: host localhost, port $PGPORT, user postgres, no password, database $db;
docs/bi.md says how to connect Metabase, DataEase, Excel and Power BI.)
'make stop' stops and removes it.
MSG
