#!/usr/bin/env bash
# test/harness/run-citus.sh -- 'make test-citus': leadmgmt on a Citus
# cluster of one coordinator and two workers (throwaway clusters on free
# loopback ports, like the test clusters), against one node.
#
# Where Citus is not installed it says so and passes: Citus is not in Debian
# (docs/dba/citus.md says how to build it beside the project).
#
# What it proves today: every custom aggregate runs partially on the workers
# (worker_partial_agg) and combines on the coordinator (coord_combine_agg),
# with the same results as one node (floats to 1e-9 relative).  The tables,
# tenancy and write functions of leadmgmt itself are issue #21's next steps.
# Ends with the line 'N passed, N failed'.
source "$(dirname "$0")/common.sh"
set +e
if [ ! -f "$("$LM_PGBIN/pg_config" --sharedir)/extension/citus.control" ]; then
  echo "skipped: citus not installed"
  echo "0 passed, 0 failed"
  exit 0
fi
passed=0; failed=0
ok()     { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
out=$LM_TOP/.build/test-citus; rm -rf "$out"; mkdir -p "$out"
[ "$(id -u)" -eq 0 ] && chmod -R a+rwX "$LM_TOP/.build"

# --- the cluster: a coordinator and two workers ------------------------------
export LM_PRELOAD=citus LM_FAKETIME=
for n in citus-c citus-w1 citus-w2; do
  "$LM_TOP/test/harness/cluster.sh" fresh "$n" tcp || { not_ok "cluster $n starts"; echo "$passed passed, $failed failed"; exit 1; }
done
port_of() { sed -n 's/.*PGPORT=\([0-9]*\).*/\1/p' "$LM_BASE/$1/env"; }
on() { local n=$1; shift; (source "$LM_BASE/$n/env"; psql -X -v ON_ERROR_STOP=1 "$@"); }
db=lm_citus
for n in citus-c citus-w1 citus-w2; do
  on "$n" -q -d postgres -c "CREATE DATABASE $db" &&
    on "$n" -q -d "$db" -c "CREATE EXTENSION citus" >>"$out/setup.log" 2>&1 ||
    not_ok "citus loads on $n"
done
on citus-c -q -d "$db" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-c))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w1))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w2))" \
  -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >>"$out/setup.log" 2>&1
if [ "$(on citus-c -At -d "$db" -c "SELECT count(*) FROM citus_get_active_worker_nodes()")" = 2 ] &&
   [ "$(on citus-w1 -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'")" = \
     "$(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'")" ]; then
  ok "a coordinator and 2 workers, leadmgmt $(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'") on each (Citus $(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"))"
else
  not_ok "a coordinator and 2 workers with leadmgmt"; cat "$out/setup.log"
fi

# --- aggregates: partial on the workers, combined on the coordinator ---------
on citus-c -q -d "$db" -f "$LM_TOP/test/citus/data.sql" >>"$out/setup.log" 2>&1
shards=$(on citus-c -At -d "$db" -c "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'td'::regclass")
if [ "$shards" = 2 ]; then ok "the facts are distributed by org_id over both workers"; else not_ok "the facts are on both workers ($shards)"; cat "$out/setup.log"; fi
k=0
while IFS= read -r q; do
  case "$q" in ''|'#'*) continue ;; esac
  k=$((k + 1))
  name=$(printf '%s' "$q" | sed -n 's/.*leadmgmt\.\([a-z_]*\)(.*/\1/p' | head -1)
  on citus-c -q -At -d "$db" -c "SET citus.coordinator_aggregation_strategy = 'disabled'" -c "${q//\{t\}/td}" >"$out/$k.td" 2>&1
  on citus-c -At -d "$db" -c "${q//\{t\}/tl}" >"$out/$k.tl" 2>&1
  if /usr/bin/python3 "$LM_TOP/test/harness/same-rows.py" "$out/$k.tl" "$out/$k.td" >"$out/$k.diff"; then
    ok "$k $name: the same $(wc -l <"$out/$k.tl") rows on the cluster as on one node"
  else
    not_ok "$k $name: the same rows on the cluster as on one node"; head -5 "$out/$k.diff" | sed 's/^/# /'
  fi
  on citus-c -At -d "$db" -c "SET citus.coordinator_aggregation_strategy = 'disabled'" \
    -c "EXPLAIN (VERBOSE, COSTS OFF) ${q//\{t\}/td}" >"$out/$k.plan" 2>&1
  if grep -q 'worker_partial_agg' "$out/$k.plan" && grep -q 'coord_combine_agg' "$out/$k.plan"; then
    ok "$k $name: partial on the workers (worker_partial_agg), combined on the coordinator (coord_combine_agg)"
  else
    not_ok "$k $name: partial on the workers, combined on the coordinator"; grep -iE 'error|agg' "$out/$k.plan" | head -5 | sed 's/^/# /'
  fi
done <"$LM_TOP/test/citus/aggregates.txt"

echo
echo "logs: $out (clusters left running; 'make stop' removes them)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
