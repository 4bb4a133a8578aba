# test/bench/lib.sh -- sourced by the benchmarks: the bench cluster's
# environment and the timing helpers.  Timing is reported, never asserted.
source "$(dirname "${BASH_SOURCE[0]}")/../harness/common.sh"
set +e
source "$LM_BASE/bench/env"
RUNS=${RUNS:-5}

# bench_ms DB SQL: milliseconds of one run of SQL, as psql's \timing reports it
bench_ms() { psql -X -q -d "$1" -c '\timing on' -c "$2" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
bench_median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# bench_run DB SQL: median milliseconds of RUNS runs
bench_run() { for r in $(seq "$RUNS"); do bench_ms "$1" "$2"; done | bench_median; }
# bench_row NAME MS LIMIT_MS PLAIN_MS: one line of a result table
bench_row() {
  awk -v n="$1" -v m="$2" -v l="$3" -v p="$4" \
    'BEGIN {printf "%-58s %10.0f %14.2f %16s\n", n, m, m / l, (p > 0 ? sprintf("%.2f", m / p) : "-")}'
}
bench_header() { printf '%-58s %10s %14s %16s\n' what median_ms ratio_to_limit ratio_to_plain_sql; }
