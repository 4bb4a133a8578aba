#!/usr/bin/env bash
# test/harness/demo.sh SCALE -- load the demo brand into a fresh database of
# the demo cluster, print a short report, and leave the cluster running.
source "$(dirname "$0")/common.sh"
scale=${1:-1}
"$LM_TOP/test/harness/cluster.sh" ensure demo tcp
source "$LM_BASE/demo/env"
db=leadmgmt_demo

lm_say "loading the demo brand at scale $scale into database $db"
dropdb --if-exists --force "$db" >/dev/null
createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt'
start=$(date +%s)
psql -X -q -d "$db" -v scale="$scale" -v seed=42 -f "$LM_TOP/test/demo/generate.sql" >/dev/null
psql -X -q -At -d "$db" -c "SELECT format('loaded in %s s: %s leads, %s touchpoints, %s funnel events, %s follow-ups, %s students, %s attendance rows',
   $(date +%s) - $start,
   (SELECT count(*) FROM leadmgmt.lead), (SELECT count(*) FROM leadmgmt.touchpoint),
   (SELECT count(*) FROM leadmgmt.lead_event), (SELECT count(*) FROM leadmgmt.follow_up),
   (SELECT count(*) FROM leadmgmt.student), (SELECT count(*) FROM leadmgmt.attendance))"
psql -X -q -d "$db" -f "$LM_TOP/test/demo/report.sql"

cat <<MSG
The demo cluster is still running. Connect with:

  psql -h localhost -p $PGPORT -U postgres $db

(BI tools: host localhost, port $PGPORT, user postgres, no password, database $db.)
'make stop' stops and removes it.
MSG
