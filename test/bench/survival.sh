#!/usr/bin/env bash
# test/bench/survival.sh -- km_fit and logrank over 1M students, against
#   limit:     percentile_disc(0.5) WITHIN GROUP (ORDER BY duration) over the
#              same rows and grouping: the sort PostgreSQL itself pays
#   plain SQL: Kaplan-Meier with GROUP BY and window functions, and the
#              log-rank statistic of each group against the rest the same way
# Durations in whole days (few distinct values, as lifetimes are kept) and
# continuous (every value distinct).  Median of RUNS (5) runs, default
# parallel settings; EXPLAIN shows the plans.
source "$(dirname "$0")/lib.sh"
db=lm_bench_survival
N=${N:-1000000}
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' -c "SELECT setseed(0.4)" -c "
CREATE TABLE students AS
SELECT i, (i % 10) AS seg, 'segment ' || (i % 10) AS grp,
       floor(-ln(1 - random()) * (200 + 20 * (i % 10)))::float8 AS days,
       -ln(1 - random()) * 200 AS cont,
       random() < 0.7 AS churned
  FROM generate_series(1, $N) i" -c "VACUUM ANALYZE students" >/dev/null

km_plain() { # $1 = duration column, $2 = grouping column or a constant
  echo "WITH t AS (SELECT $2 AS g, $1 AS d, count(*) FILTER (WHERE churned) AS e, count(*) AS n FROM students GROUP BY 1, 2),
r AS (SELECT g, d, e, sum(n) OVER (PARTITION BY g ORDER BY d DESC) AS at_risk FROM t),
s AS (SELECT g, d, exp(sum(ln(greatest(1 - e::float8 / at_risk, 1e-300))) OVER (PARTITION BY g ORDER BY d)) AS surv FROM r)
SELECT g, min(d) FILTER (WHERE surv <= 0.5) FROM s GROUP BY g"
}
lr_plain="WITH t AS (SELECT seg, days, count(*) FILTER (WHERE churned) AS e, count(*) AS n FROM students GROUP BY 1, 2),
grid AS (SELECT s.seg, d.days FROM (SELECT DISTINCT seg FROM t) s CROSS JOIN (SELECT DISTINCT days FROM t) d),
g AS (SELECT grid.seg, grid.days, coalesce(t.e, 0) AS e, coalesce(t.n, 0) AS n FROM grid LEFT JOIN t USING (seg, days)),
r AS (SELECT seg, days, e, sum(n) OVER (PARTITION BY seg ORDER BY days DESC) AS g_risk FROM g),
tot AS (SELECT days, sum(e) AS e, sum(g_risk) AS at_risk FROM r GROUP BY days),
x AS (SELECT r.seg, r.e AS g_e, r.g_risk, tot.e, tot.at_risk FROM r JOIN tot USING (days) WHERE tot.e > 0)
SELECT seg, (sum(g_e) - sum(e * g_risk / at_risk))^2
          / sum(CASE WHEN at_risk > 1 THEN e * (at_risk - e) * g_risk * (at_risk - g_risk) / (at_risk^2 * (at_risk - 1)) ELSE 0 END) AS chi2
  FROM x GROUP BY seg"

declare -A ms
q() { ms[$1]=$(bench_run "$db" "$2"); }
q lim_all   "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY days) FROM students"
q km_all    "SELECT (leadmgmt.km_median(leadmgmt.km_fit(days, churned))).median FROM students"
q pl_all    "$(km_plain days 0)"
q lim_seg   "SELECT seg, percentile_disc(0.5) WITHIN GROUP (ORDER BY days) FROM students GROUP BY seg"
q km_seg    "SELECT seg, (leadmgmt.km_median(leadmgmt.km_fit(days, churned))).median FROM students GROUP BY seg"
q pl_seg    "$(km_plain days seg)"
q lim_cont  "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY cont) FROM students"
q km_cont   "SELECT (leadmgmt.km_median(leadmgmt.km_fit(cont, churned))).median FROM students"
q pl_cont   "$(km_plain cont 0)"
q lr        "SELECT (leadmgmt.logrank(grp, days, churned)).p_value FROM students"
q lr_each   "SELECT count(e.p_value) FROM leadmgmt.logrank_each((SELECT leadmgmt.survival_by(grp, days, churned) FROM students)) e"
q pl_lr     "$lr_plain"

printf '\n== survival: %s students, 10 segments, median of %s runs\n' "$N" "$RUNS"
bench_header
bench_row "limit: percentile_disc(0.5) over days" "${ms[lim_all]}" "${ms[lim_all]}" "${ms[pl_all]}"
bench_row "plain SQL: Kaplan-Meier median by window functions" "${ms[pl_all]}" "${ms[lim_all]}" "${ms[pl_all]}"
bench_row "km_median(km_fit(days, churned))" "${ms[km_all]}" "${ms[lim_all]}" "${ms[pl_all]}"
bench_row "limit: percentile_disc(0.5) by segment" "${ms[lim_seg]}" "${ms[lim_seg]}" "${ms[pl_seg]}"
bench_row "plain SQL: Kaplan-Meier median by segment" "${ms[pl_seg]}" "${ms[lim_seg]}" "${ms[pl_seg]}"
bench_row "km_median(km_fit(days, churned)) by segment" "${ms[km_seg]}" "${ms[lim_seg]}" "${ms[pl_seg]}"
bench_row "limit: percentile_disc(0.5), continuous durations" "${ms[lim_cont]}" "${ms[lim_cont]}" "${ms[pl_cont]}"
bench_row "plain SQL: Kaplan-Meier median, continuous" "${ms[pl_cont]}" "${ms[lim_cont]}" "${ms[pl_cont]}"
bench_row "km_median(km_fit(cont, churned)), continuous" "${ms[km_cont]}" "${ms[lim_cont]}" "${ms[pl_cont]}"
bench_row "plain SQL: log-rank of each segment vs the rest" "${ms[pl_lr]}" "${ms[lim_seg]}" "${ms[pl_lr]}"
bench_row "logrank(grp, days, churned), 10 groups" "${ms[lr]}" "${ms[lim_seg]}" "${ms[pl_lr]}"
bench_row "logrank_each(survival_by(grp, days, churned))" "${ms[lr_each]}" "${ms[lim_seg]}" "${ms[pl_lr]}"
echo "(logrank rows: ratio_to_limit is to percentile_disc by segment)"
echo "EXPLAIN (ANALYZE) of km_fit by segment:"
psql -X -d "$db" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT seg, leadmgmt.km_fit(days, churned) FROM students GROUP BY seg" | sed 's/^/  /'
dropdb "$db"
