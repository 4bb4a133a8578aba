#!/usr/bin/env bash
# test/bench/lifecycle.sh -- the lifecycle's reports over the demo org at
# scale 1 (100k leads and their status history), against
#   limit:     the same scan of lead_status_change grouped by lead, count(*)
#   plain SQL: time in each status by channel as one writes it by hand from
#              the history: the stays with lag() per lead, then a GROUP BY
# plus the lost leads by reason, channel and rep, and the cost of the
# lifecycle's triggers: 2,000 leads won by record_order, one call each.
# Median of 5.
source "$(dirname "$0")/lib.sh"
db=lm_bench_lifecycle
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' >/dev/null
psql -X -q -d "$db" -v scale=1 -f "$LM_TOP/test/demo/generate.sql" >/dev/null
psql -X -q -d "$db" -c 'VACUUM ANALYZE' >/dev/null

run() { bench_run "$db" "$1"; }

limit=$(run "SELECT count(*), sum(n) FROM (SELECT lead_id, count(*) AS n FROM leadmgmt.lead_status_change WHERE org_id = 1 GROUP BY lead_id) s")
plain=$(run "SELECT count(*), sum(h) FROM (
  SELECT l.first_channel_id, s.status, avg(s.h) AS h FROM (
    SELECT c.lead_id, c.from_status AS status,
           extract(epoch FROM c.changed_at - coalesce(lag(c.changed_at) OVER (PARTITION BY c.lead_id ORDER BY c.changed_at, c.change_id),
                                                      (SELECT x.created_at FROM leadmgmt.lead x WHERE x.org_id = 1 AND x.lead_id = c.lead_id))) / 3600 AS h
      FROM leadmgmt.lead_status_change c WHERE c.org_id = 1) s
    JOIN leadmgmt.lead l ON l.org_id = 1 AND l.lead_id = s.lead_id
   GROUP BY l.first_channel_id, s.status) t")
feature=$(run "SELECT count(*), sum(mean_hours) FROM leadmgmt.status_time WHERE org_id = 1")
lost=$(run "SELECT count(*), sum(leads) FROM leadmgmt.lost_reasons WHERE org_id = 1")
# the triggers: leads in trial won by an order each (a statement per call,
# as an application makes them), and the same inserts without the triggers
ids=$(psql -X -At -d "$db" -c "SELECT string_agg(lead_id::text, ' ') FROM (SELECT lead_id FROM leadmgmt.lead WHERE org_id = 1
                                 AND status IN ('trial_booked', 'trial_attended') ORDER BY lead_id LIMIT 2000) x")
calls() { for l in $ids; do echo "SELECT leadmgmt.record_order(1, $l, 'Spring term', 3000, '2026-04-01 10:00+08');"; done; }
t0=$(date +%s%N); calls | psql -X -q -d "$db" >/dev/null; t1=$(date +%s%N)
won=$(psql -X -At -d "$db" -c "SELECT count(*) FROM leadmgmt.lead_status_change WHERE org_id = 1 AND cause = 'order' AND changed_by <> 'demo'")
psql -X -q -d "$db" -c "DELETE FROM leadmgmt.sales_order WHERE org_id = 1 AND created_at = '2026-04-01 10:00+08'" \
  -c "ALTER TABLE leadmgmt.sales_order DISABLE TRIGGER sales_order_lifecycle" >/dev/null
t2=$(date +%s%N); calls | psql -X -q -d "$db" >/dev/null; t3=$(date +%s%N)

printf '\n== lifecycle: demo org, 100k leads and their status history (median of %s runs)\n' "$RUNS"
bench_header
bench_row "limit: count(*) of the history by lead" "$limit" "$limit" "$plain"
bench_row "plain SQL: stays with lag(), grouped by channel" "$plain" "$limit" "$plain"
bench_row "leadmgmt.status_time (org 1)" "$feature" "$limit" "$plain"
printf '%-58s %10s\n' "leadmgmt.lost_reasons (org 1)" "$lost"
printf '%-58s %10s\n' "record_order x2000, each winning its lead (ms)" "$(( (t1 - t0) / 1000000 ))" \
  "record_order x2000 without the lifecycle trigger (ms)" "$(( (t3 - t2) / 1000000 ))"
echo "  ($won leads won by the orders and recorded in lead_status_change)"
echo "EXPLAIN of status_time for one org:"
psql -X -d "$db" -c "EXPLAIN (COSTS OFF) SELECT * FROM leadmgmt.status_time WHERE org_id = 1" | sed 's/^/  /' | head -30
dropdb "$db"
