#!/usr/bin/env bash
# test/bench/model.sh -- logistic regression over 1M rows x 20 features:
#   limit:  the same scan reading the array column, SELECT sum(x[1])
#   one IRLS pass: logreg_step at fixed coefficients
#   the whole fit: logreg_train (passes until converged)
#   outside:  COPY the rows out and fit with python3-statsmodels Logit,
#             which is what exporting to a notebook costs
# Median of RUNS (5) for the pass and the limit; the fits run once.
source "$(dirname "$0")/lib.sh"
db=lm_bench_logreg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
N=${N:-1000000}
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' -c "SELECT setseed(0.5)" -c "
CREATE TABLE lr AS
WITH r AS (
  SELECT i, ARRAY(SELECT (random() * 2 - 1) * (1 + j % 3) FROM generate_series(1, 20) j WHERE i > 0) AS x
    FROM generate_series(1, $N) i)
SELECT i, random() < 1 / (1 + exp(-(-0.5 + 0.8 * x[1] - 0.5 * x[2] + 0.3 * x[3] + 0.2 * x[10] - 0.4 * x[20]))) AS y, x FROM r" \
  -c "VACUUM ANALYZE lr" >/dev/null

coef="array_fill(0.01::float8, ARRAY[21])"
limit=$(bench_run "$db" "SELECT sum(x[1]) FROM lr")
pass=$(bench_run "$db" "SELECT (leadmgmt.logreg_step(y, x, $coef))[4] FROM lr")
fit_out=$(psql -X -q -At -d "$db" -c '\timing on' -c "SELECT (m).iterations, (m).converged FROM (SELECT leadmgmt.logreg_train('lr', 'y', 'x') AS m) s" 2>&1)
fit=$(echo "$fit_out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
iters=$(echo "$fit_out" | grep '|' | head -1)
t0=$(date +%s%N)
psql -X -q -d "$db" -c "COPY (SELECT y::int, array_to_string(x, ' ') FROM lr) TO STDOUT" |
  /usr/bin/python3 -c '
import sys, numpy as np, statsmodels.api as sm
y = []; X = []
for line in sys.stdin:
    a, b = line.split("\t")
    y.append(int(a)); X.append(np.array(b.split(), dtype=float))
m = sm.Logit(np.array(y, dtype=float), sm.add_constant(np.vstack(X))).fit(method="newton", tol=1e-8, disp=0)
print(m.mle_retvals["iterations"], file=sys.stderr)' 2>"$tmp/sm_iters"
t1=$(date +%s%N)
outside=$(( (t1 - t0) / 1000000 ))

printf '\n== logistic regression: %s rows x 20 features (median of %s runs for the pass)\n' "$N" "$RUNS"
bench_header
bench_row "limit: SELECT sum(x[1]) over the array column" "$limit" "$limit" 0
bench_row "one IRLS pass: logreg_step" "$pass" "$limit" 0
printf '%-58s %10.0f   (passes, converged: %s)\n' "logreg_train, whole fit" "$fit" "$iters"
printf '%-58s %10.0f   (statsmodels iterations: %s)\n' "COPY out + python3-statsmodels Logit" "$outside" "$(tail -1 "$tmp/sm_iters")"
awk -v a="$fit" -v b="$outside" 'BEGIN {printf "in-database fit is %.1fx faster than exporting and fitting outside\n", b / a}'
echo "EXPLAIN of one pass:"
psql -X -d "$db" -c "EXPLAIN (COSTS OFF) SELECT leadmgmt.logreg_step(y, x, $coef) FROM lr" | sed 's/^/  /'
dropdb "$db"
