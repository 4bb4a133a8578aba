#!/usr/bin/env bash
# test/bench/funnel.sh -- window_funnel over EVENTS events (default 10M)
# of LEADS leads (default 1M), 5 steps, GROUP BY lead.  Compared with
#   limit:     the same scan and grouping with count(*)
#   plain SQL: the best plain-SQL funnel with exactly the same answer.  Plain
#              SQL cannot express the restart semantics of the default mode,
#              so this row uses first_entry, where a chain of "earliest next
#              step within the window" joins is exact; the answers are checked
#              to be identical.
# All queries run on the same table with an index on (lead_id, step, ts).
# Median of RUNS runs (default 5), the queries taking turns; EXPLAIN (ANALYZE, BUFFERS) of the main query.
source "$(dirname "$0")/lib.sh"
EVENTS=${EVENTS:-10000000}
LEADS=${LEADS:-1000000}
db=lm_bench_funnel
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

dropdb --if-exists "$db" >/dev/null; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE EXTENSION leadmgmt;
SELECT leadmgmt.install();
SELECT setseed(0.5);
-- step 1 is common, step 5 rare; times within two days of each lead's first touch
CREATE TABLE ev AS
SELECT (i % $LEADS) AS lead_id,
       '2026-01-01'::timestamptz + ((i % $LEADS) % 300) * interval '1 day' + floor(random() * 2880) * interval '1 minute' AS ts,
       (ARRAY[1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5])[1 + floor(random() * 11)::int] AS step
  FROM generate_series(1, $EVENTS) i;
-- what a user would have for funnel queries; every query below may use it
CREATE INDEX ON ev (lead_id, step, ts);
VACUUM ANALYZE ev;
SQL

cat >"$tmp/limit.sql" <<'SQL'
SELECT count(*), sum(c) FROM (SELECT lead_id, count(*) AS c FROM ev GROUP BY lead_id) s;
SQL
cat >"$tmp/funnel.sql" <<'SQL'
SELECT count(*), sum(level) FROM (
  SELECT lead_id, leadmgmt.window_funnel('1 day', ts, step = 1, step = 2, step = 3, step = 4, step = 5) AS level
    FROM ev GROUP BY lead_id) s;
SQL
cat >"$tmp/funnel_first.sql" <<'SQL'
SELECT count(*), sum(level) FROM (
  SELECT lead_id, leadmgmt.window_funnel('1 day', 'first_entry', ts, step = 1, step = 2, step = 3, step = 4, step = 5) AS level
    FROM ev GROUP BY lead_id) s;
SQL
# first_entry in plain SQL: the first step 1, then the earliest next step at or
# after the previous one and within a day of the first
cat >"$tmp/plain_body.sql" <<'SQL'
WITH s1 AS (SELECT lead_id, min(ts) AS t1 FROM ev WHERE step = 1 GROUP BY lead_id),
s2 AS (SELECT s1.lead_id, s1.t1, min(e.ts) AS t2 FROM s1 JOIN ev e ON e.lead_id = s1.lead_id AND e.step = 2
         AND e.ts >= s1.t1 AND e.ts <= s1.t1 + interval '1 day' GROUP BY 1, 2),
s3 AS (SELECT s2.lead_id, s2.t1, min(e.ts) AS t3 FROM s2 JOIN ev e ON e.lead_id = s2.lead_id AND e.step = 3
         AND e.ts >= s2.t2 AND e.ts <= s2.t1 + interval '1 day' GROUP BY 1, 2),
s4 AS (SELECT s3.lead_id, s3.t1, min(e.ts) AS t4 FROM s3 JOIN ev e ON e.lead_id = s3.lead_id AND e.step = 4
         AND e.ts >= s3.t3 AND e.ts <= s3.t1 + interval '1 day' GROUP BY 1, 2),
s5 AS (SELECT DISTINCT s4.lead_id FROM s4 JOIN ev e ON e.lead_id = s4.lead_id AND e.step = 5
         AND e.ts >= s4.t4 AND e.ts <= s4.t1 + interval '1 day'),
leads AS (SELECT DISTINCT lead_id FROM ev)
SELECT l.lead_id, CASE WHEN s5.lead_id IS NOT NULL THEN 5 WHEN s4.lead_id IS NOT NULL THEN 4 WHEN s3.lead_id IS NOT NULL THEN 3
                       WHEN s2.lead_id IS NOT NULL THEN 2 WHEN s1.lead_id IS NOT NULL THEN 1 ELSE 0 END AS level
  FROM leads l LEFT JOIN s1 USING (lead_id) LEFT JOIN s2 USING (lead_id) LEFT JOIN s3 USING (lead_id)
  LEFT JOIN s4 USING (lead_id) LEFT JOIN s5 USING (lead_id)
SQL
{ echo 'SELECT count(*), sum(level) FROM ('; cat "$tmp/plain_body.sql"; echo ') s;'; } >"$tmp/plain.sql"


printf '\n== window_funnel: %s events, %s leads, 5 steps, GROUP BY lead (median of %s runs)\n' "$EVENTS" "$LEADS" "$RUNS"
# the queries take turns, so a slow spell of the machine hits all of them alike
for r in $(seq "$RUNS"); do
  for q in limit funnel funnel_first plain; do bench_ms "$db" "$(cat "$tmp/$q.sql")" >>"$tmp/$q.ms"; done
done
for q in limit funnel funnel_first plain; do eval "m_$q=$(bench_median <"$tmp/$q.ms")"; done
# ratio_to_limit: of the medians; same_run_ratio: the median of the ratios
# within each turn, which a machine whose speed drifts between turns moves less
printf '%-46s %10s %10s %14s %15s %16s\n' what events median_ms ratio_to_limit same_run_ratio ratio_to_plain_sql
row() { awk -v n="$1" -v e="$EVENTS" -v m="$(eval echo "\$m_$2")" -v l="$m_limit" -v p="$m_plain" \
          -v s="$(paste "$tmp/$2.ms" "$tmp/limit.ms" | awk '{print $1 / $2}' | bench_median)" \
          'BEGIN {printf "%-46s %10d %10.0f %14.2f %15.2f %16.2f\n", n, e, m, m / l, s, m / p}'; }
row "limit: count(*) GROUP BY lead" limit
row "leadmgmt.window_funnel (default mode)" funnel
row "leadmgmt.window_funnel (first_entry)" funnel_first
row "plain SQL funnel (first_entry, 5 self-joins)" plain

psql -X -At -d "$db" >"$tmp/check" <<SQL
SELECT count(*) FROM (
  SELECT lead_id, leadmgmt.window_funnel('1 day', 'first_entry', ts, step = 1, step = 2, step = 3, step = 4, step = 5) AS level
    FROM ev GROUP BY lead_id) f
FULL JOIN ($(cat "$tmp/plain_body.sql")) p USING (lead_id)
WHERE f.level IS DISTINCT FROM p.level;
SQL
echo "check: leads where window_funnel (first_entry) and the plain-SQL funnel differ: $(cat "$tmp/check") (want 0)"
psql -X -At -d "$db" -c "SELECT 'state memory per group: ' || round(avg(128 * power(2, greatest(0, ceil(log(2, (24 + 16 * n) / 128.0))))))::int
                               || ' bytes on average for ' || round(avg(n), 1) || ' events (24-byte header and 16 bytes per event, in power-of-two chunks from 128 bytes)'
                          FROM (SELECT count(*) AS n FROM ev GROUP BY lead_id) g"
echo "EXPLAIN (ANALYZE, BUFFERS) of the window_funnel query:"
psql -X -d "$db" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(cat "$tmp/funnel.sql")" | sed 's/^/  /'

# without the index the planner reads the table in parallel: partial states
# built in the workers, then combined
psql -X -q -d "$db" -c "DROP INDEX ev_lead_id_step_ts_idx"
for r in $(seq "$RUNS"); do
  for q in limit funnel; do bench_ms "$db" "$(cat "$tmp/$q.sql")" >>"$tmp/noindex_$q.ms"; done
done
m_nl=$(bench_median <"$tmp/noindex_limit.ms"); m_nf=$(bench_median <"$tmp/noindex_funnel.ms")
printf '\n== the same without the index: parallel plans (median of %s runs)\n' "$RUNS"
awk -v l="$m_nl" -v f="$m_nf" 'BEGIN {printf "%-46s %10.0f\n%-46s %10.0f %14.2f\n", "limit: count(*) GROUP BY lead", l,
                                          "leadmgmt.window_funnel (default mode)", f, f / l}'
echo "EXPLAIN of the window_funnel query without the index:"
psql -X -d "$db" -c "EXPLAIN (COSTS OFF) $(cat "$tmp/funnel.sql")" | sed 's/^/  /'
dropdb "$db"
