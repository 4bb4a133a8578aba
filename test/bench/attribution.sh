#!/usr/bin/env bash
# test/bench/attribution.sh -- attribution over TOUCHES (5M) touches in
# JOURNEYS (1M) journeys, 20 channels:
#   touch_credit (linear, position_based, time_decay) GROUP BY journey against
#     limit:     count(*) with the same grouping
#     plain SQL: the best window-function formulation of linear and position-based
#   markov_attribution (k = 1) over the journeys as arrays against count(*) over
#     the same rows; the solve alone for k = 2 and 3; shapley_attribution
# Median of RUNS (5); EXPLAIN shows the plans.
source "$(dirname "$0")/lib.sh"
db=lm_bench_attribution
TOUCHES=${TOUCHES:-5000000}
JOURNEYS=${JOURNEYS:-1000000}
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' -c "SELECT setseed(0.6)" -c "
CREATE TABLE touches AS
SELECT i % $JOURNEYS AS journey, 'ch' || lpad((floor(random() * random() * 20))::int::text, 2, '0') AS channel,
       '2026-01-01'::timestamptz + floor(random() * 40000) * interval '1 minute' AS ts,
       '2026-02-01'::timestamptz AS converted_at
  FROM generate_series(1, $TOUCHES) i" -c "
CREATE TABLE journeys AS
SELECT journey, array_agg(channel ORDER BY ts) AS path, (journey % 10 < 3)::int::float8 AS conv, ((journey % 7) * 100)::float8 AS value
  FROM touches GROUP BY journey" -c "VACUUM ANALYZE touches" -c "VACUUM ANALYZE journeys" >/dev/null

declare -A ms
q() { ms[$1]=$(bench_run "$db" "$2"); }
q limit     "SELECT count(*), sum(n) FROM (SELECT journey, count(*) AS n FROM touches GROUP BY journey) s"
q linear    "SELECT count(*) FROM (SELECT journey, leadmgmt.touch_credit('linear', channel, ts, converted_at) FROM touches GROUP BY journey) s"
q position  "SELECT count(*) FROM (SELECT journey, leadmgmt.touch_credit('position_based', channel, ts, converted_at) FROM touches GROUP BY journey) s"
q decay     "SELECT count(*) FROM (SELECT journey, leadmgmt.touch_credit('time_decay', channel, ts, converted_at) FROM touches GROUP BY journey) s"
q pl_linear "SELECT count(*) FROM (SELECT journey, channel, sum(1.0 / n) FROM (
               SELECT journey, channel, count(*) OVER (PARTITION BY journey) AS n FROM touches
                WHERE ts <= converted_at AND ts >= converted_at - interval '30 days') t GROUP BY journey, channel) s"
q pl_position "SELECT count(*) FROM (SELECT journey, channel, sum(w) FROM (
               SELECT journey, channel, CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5 WHEN rn = 1 OR rn = n THEN 0.4 ELSE 0.2 / (n - 2) END AS w
                 FROM (SELECT journey, channel, row_number() OVER (PARTITION BY journey ORDER BY ts, channel) AS rn,
                              count(*) OVER (PARTITION BY journey) AS n FROM touches
                        WHERE ts <= converted_at AND ts >= converted_at - interval '30 days') t) u GROUP BY journey, channel) s"
q jlimit    "SELECT count(*), sum(cardinality(path)) FROM journeys"
q markov1   "SELECT cardinality(leadmgmt.markov_attribution(path, conv, 1 - conv, value)) FROM journeys"
q shapley   "SELECT cardinality(leadmgmt.shapley_attribution(path, conv, value)) FROM journeys"
q shapleyx  "SELECT cardinality(leadmgmt.shapley_attribution(path, conv, value, true)) FROM journeys"
# the solve alone: final over a state aggregated once
psql -X -q -d "$db" -c "CREATE AGGREGATE pstate(text[], float8, float8, float8, integer) (SFUNC = leadmgmt.markov_transfn, STYPE = leadmgmt.journey_state, COMBINEFUNC = leadmgmt.journey_combine, PARALLEL = SAFE)" \
  -c "CREATE TABLE states AS SELECT k, pstate(path, conv, 1 - conv, value, k) AS s FROM journeys, generate_series(1, 3) k GROUP BY k" >/dev/null
for k in 1 2 3; do ms[solve$k]=$(bench_run "$db" "SELECT cardinality(leadmgmt.markov_final(s)) FROM states WHERE k = $k"); done
nstates=$(psql -X -At -d "$db" -c "SELECT string_agg(k || ': ' || length(s::text) / 2 / 1024 || ' KiB', ', ' ORDER BY k) FROM states")

printf '\n== attribution: %s touches in %s journeys, 20 channels (median of %s runs)\n' "$TOUCHES" "$JOURNEYS" "$RUNS"
bench_header
bench_row "limit: count(*) GROUP BY journey" "${ms[limit]}" "${ms[limit]}" "${ms[pl_linear]}"
bench_row "plain SQL: linear with window functions" "${ms[pl_linear]}" "${ms[limit]}" "${ms[pl_linear]}"
bench_row "touch_credit('linear') GROUP BY journey" "${ms[linear]}" "${ms[limit]}" "${ms[pl_linear]}"
bench_row "plain SQL: position-based with window functions" "${ms[pl_position]}" "${ms[limit]}" "${ms[pl_position]}"
bench_row "touch_credit('position_based') GROUP BY journey" "${ms[position]}" "${ms[limit]}" "${ms[pl_position]}"
bench_row "touch_credit('time_decay') GROUP BY journey" "${ms[decay]}" "${ms[limit]}" 0
bench_row "limit: count(*) over the journey arrays" "${ms[jlimit]}" "${ms[jlimit]}" 0
bench_row "markov_attribution, k = 1, solve included" "${ms[markov1]}" "${ms[jlimit]}" 0
bench_row "shapley_attribution (simplified)" "${ms[shapley]}" "${ms[jlimit]}" 0
bench_row "shapley_attribution (exact, 2^20 coalitions)" "${ms[shapleyx]}" "${ms[jlimit]}" 0
printf '%-58s %10s\n' "Markov solve alone, k = 1" "${ms[solve1]}" "Markov solve alone, k = 2" "${ms[solve2]}" "Markov solve alone, k = 3" "${ms[solve3]}"
echo "(state sizes by order: $nstates)"
echo "EXPLAIN of touch_credit GROUP BY journey:"
psql -X -d "$db" -c "EXPLAIN (COSTS OFF) SELECT journey, leadmgmt.touch_credit('linear', channel, ts, converted_at) FROM touches GROUP BY journey" | sed 's/^/  /'
dropdb "$db"
