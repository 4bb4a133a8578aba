#!/usr/bin/env bash
# test/bench/tiers.sh -- lead_tiers over the demo org at scale 1 (100k
# leads, ~1.5M events), against
#   limit:     the same event scan and grouping by lead with count(*)
#   plain SQL: stages with correlated EXISTS per lead, as one would write it
# plus one refresh_tiers after scoring a tenth of the leads.  Median of 5.
source "$(dirname "$0")/lib.sh"
db=lm_bench_tiers
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' >/dev/null
psql -X -q -d "$db" -v scale=1 -f "$LM_TOP/test/demo/generate.sql" >/dev/null

time_ms() { bench_ms "$db" "$1"; }
run() { bench_run "$db" "$1"; }

limit=$(run "SELECT count(*), sum(n) FROM (SELECT lead_id, count(*) AS n FROM leadmgmt.lead_event WHERE org_id = 1
             AND event_type IN ('trial_booked', 'wechat_followed', 'sms_verified') GROUP BY lead_id) s")
plain=$(run "SELECT count(*), count(*) FILTER (WHERE stage = 'A') FROM (
  SELECT CASE WHEN EXISTS (SELECT 1 FROM leadmgmt.trial_lesson t WHERE t.org_id = l.org_id AND t.lead_id = l.lead_id AND t.self_booked) THEN 'A'
              WHEN EXISTS (SELECT 1 FROM leadmgmt.lead_event e WHERE e.org_id = l.org_id AND e.lead_id = l.lead_id AND e.event_type = 'wechat_followed') THEN 'B'
              WHEN EXISTS (SELECT 1 FROM leadmgmt.lead_event e WHERE e.org_id = l.org_id AND e.lead_id = l.lead_id AND e.event_type = 'sms_verified') THEN 'C'
              ELSE 'D' END AS stage
    FROM leadmgmt.lead l WHERE l.org_id = 1) s")
feature=$(run "SELECT count(*), count(*) FILTER (WHERE stage = 'A') FROM leadmgmt.lead_tiers(1)")
one=$(run "SELECT leadmgmt.lead_tier(1, 4242)")
psql -X -q -d "$db" -c "UPDATE leadmgmt.lead SET score = 0.9 WHERE lead_id % 10 = 0" >/dev/null
refresh=$(time_ms "SELECT leadmgmt.refresh_tiers(1)")

printf '\n== lead tiers: demo org, 100k leads (median of %s runs)\n' "$RUNS"
bench_header
bench_row "limit: count(*) of stage events by lead" "$limit" "$limit" "$plain"
bench_row "plain SQL: correlated EXISTS per lead" "$plain" "$limit" "$plain"
bench_row "leadmgmt.lead_tiers (all leads)" "$feature" "$limit" "$plain"
printf '%-58s %10s\n' "leadmgmt.lead_tier (one lead)" "$one" "leadmgmt.refresh_tiers (a tenth rescored, once)" "$refresh"
echo "EXPLAIN of the plain-SQL stage query:"
psql -X -d "$db" -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM leadmgmt.lead l WHERE l.org_id = 1
  AND EXISTS (SELECT 1 FROM leadmgmt.lead_event e WHERE e.org_id = l.org_id AND e.lead_id = l.lead_id AND e.event_type = 'sms_verified')" | sed 's/^/  /'
dropdb "$db"
