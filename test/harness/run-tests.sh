#!/usr/bin/env bash
# test/harness/run-tests.sh -- everything 'make test' runs, against a fresh
# throwaway cluster:
#   1. pg_regress: sql/*.sql against expected/*.out (exact output and errors)
#   2. pgTAP: test/pgtap/*.sql through pg_prove, each file connecting as the
#      role named on its '-- role:' line (default postgres)
#   3. harness checks: test/harness/checks/*.sh (upgrade path, dump and
#      restore, concurrency), each printing TAP 'ok' / 'not ok' lines
# Counts every regress test, pgTAP assertion and check, and ends with the
# line 'N passed, N failed'; exits non-zero on any failure.
#
# The wall clock: no result may depend on the day the suite runs.  So the
# whole suite runs twice, first on the real clock, then again on a second
# cluster whose server clock libfaketime moves 3 years ahead (its lines and
# logs are marked '+3y'), with the library built with UBSan (SANITIZE=1).
# 'make test FAKETIME=-1y' runs it once, under that clock only; 'make test
# CLOCK_PASS=0' leaves the second pass out (docs/dba/testing.md).
source "$(dirname "$0")/common.sh"
set +e

passed=0; failed=0
# the harness checks, each named for what it proves, in this order
LM_CHECKS="freeze upgrade dump_restore concurrent_ingest concurrent_master_data concurrent_routing concurrent_scoring concurrent_assign assign_in_flight
  assign_rollbacks docs_examples docs_links demo_report demo_page bi_drivers bi_filters packaging survival_reference model_reference edges fuzz"
# what a moved clock cannot change: links, packaging, and the drivers' and the
# browser's view of the views (their data carry their own clock, report_as_of)
LM_CLOCK_ONCE="docs_links demo_page bi_drivers bi_filters packaging"
missing=$(cd "$LM_TOP/test/harness/checks" && ls *.sh | sed 's/\.sh$//' | grep -vxF -e lib $(printf -- '-e %s ' $LM_CHECKS) || true)
[ -z "$missing" ] || { echo "not ok - test/harness/checks/ has checks that run-tests.sh does not list: $missing"; failed=1; }
out_top=$LM_TOP/.build/test; rm -rf "$out_top"; mkdir -p "$out_top" "$LM_TOP/.build/regress"
[ "$(id -u)" -eq 0 ] && chmod -R a+rwX "$LM_TOP/.build"
export LM_BASE LM_TOP

# suite CLUSTER CLOCK [second]: every test against a fresh cluster CLUSTER whose
# server clock is moved by CLOCK (empty: the real clock); logs go to
# .build/test/CLUSTER.  'second' (the moved-clock pass after the first) leaves
# out the checks of LM_CLOCK_ONCE, which the first pass ran.
suite() {
local cluster=$1 mark=""
export LM_CLUSTER=$cluster LM_FAKETIME=$2
[ -n "$2" ] && mark=" [clock $2]"
out=$out_top/$cluster; mkdir -p "$out"
[ "$(id -u)" -eq 0 ] && chmod -R a+rwX "$out_top"
lm_say "the suite on cluster $cluster$mark"
if ! "$LM_TOP/test/harness/cluster.sh" fresh "$cluster"; then
  failed=$((failed + 1)); return
fi
source "$LM_BASE/$cluster/env"
if [ -n "$2" ]; then
  psql -X -At -d postgres -c "SELECT 'server clock: ' || now()" | sed 's/^/  # /'
fi

# --- 1. pg_regress -----------------------------------------------------------
lm_say "pg_regress$mark"
(cd "$LM_TOP" && make --no-print-directory -s installcheck PG_CONFIG="$LM_PGBIN/pg_config") >"$out/regress.log" 2>&1
grep -E '^(ok|not ok|test |     |\s*[0-9]+ of|All )' "$out/regress.log" | grep -vE '^\s*$' | sed 's/^/  /' | head -200
r_ok=$(grep -cE '^(ok |test .*\.\.\. ok)|^ +[a-z0-9_]+ +\.\.\. ok' "$out/regress.log")
r_fail=$(grep -cE '^(not ok |test .*\.\.\. FAILED)|\.\.\. FAILED' "$out/regress.log")
passed=$((passed + r_ok)); failed=$((failed + r_fail))
if [ "$r_fail" -gt 0 ] || ! grep -q 'tests passed' "$out/regress.log"; then
  [ "$r_fail" -gt 0 ] || failed=$((failed + 1))
  cat "$out/regress.log" | tail -20
  [ -f "$LM_TOP/.build/regress/regression.diffs" ] && head -150 "$LM_TOP/.build/regress/regression.diffs"
fi

# make test VALGRIND=1: the regress suite only, the server under valgrind
if [ -n "${VALGRIND:-}" ]; then
  n=$(cat "$LM_BASE/$cluster"/valgrind.* 2>/dev/null | grep -c 'leadmgmt\.so')
  errs=$(cat "$LM_BASE/$cluster"/valgrind.* 2>/dev/null | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Source and destination)')
  echo "  # valgrind: $errs errors in the server's processes, $n stack lines in leadmgmt.so"
  if [ "$n" -eq 0 ]; then
    echo "  ok - valgrind finds no error in leadmgmt.so"; passed=$((passed + 1))
  else
    echo "  not ok - valgrind finds errors in leadmgmt.so"; failed=$((failed + 1))
    cat "$LM_BASE/$cluster"/valgrind.* | grep -B12 -A4 'leadmgmt\.so' | head -80
  fi
  return
fi

# --- 2. pgTAP ------------------------------------------------------------------
lm_say "pgTAP$mark"
# two small orgs from the demo generator, so that every table has rows of both
psql -X -q -v ON_ERROR_STOP=1 -d postgres -f "$LM_TOP/test/pgtap/setup/roles.sql" >"$out/tap-setup.log" 2>&1 &&
  createdb leadmgmt_tap && psql -X -q -v ON_ERROR_STOP=1 -d leadmgmt_tap \
    -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' >>"$out/tap-setup.log" 2>&1 &&
  psql -X -q -d leadmgmt_tap -v scale=0.01 -v seed=1 -v org_name='Org One' \
    -f "$LM_TOP/test/demo/generate.sql" >>"$out/tap-setup.log" 2>&1 &&
  psql -X -q -d leadmgmt_tap -v scale=0.005 -v seed=2 -v org_name='Org Two' \
    -f "$LM_TOP/test/demo/generate.sql" >>"$out/tap-setup.log" 2>&1 &&
  psql -X -q -v ON_ERROR_STOP=1 -d leadmgmt_tap \
    -f "$LM_TOP/test/pgtap/setup/fixture.sql" -f "$LM_TOP/test/pgtap/setup/access.sql" >>"$out/tap-setup.log" 2>&1
if [ $? -ne 0 ]; then
  cat "$out/tap-setup.log"; failed=$((failed + 1))
else
  for f in "$LM_TOP"/test/pgtap/*.sql; do
    role=$(sed -n 's/^-- role: *\([a-z0-9_]*\).*/\1/p' "$f" | head -1)
    name=$(basename "$f")
    pg_prove --verbose --ext .sql -d leadmgmt_tap -U "${role:-postgres}" "$f" >"$out/tap-$name.log" 2>&1
    rc=$?
    t_ok=$(grep -cE '^ok [0-9]+' "$out/tap-$name.log")
    t_fail=$(grep -cE '^not ok [0-9]+' "$out/tap-$name.log")
    if [ $rc -ne 0 ] && [ "$t_fail" -eq 0 ]; then t_fail=1; fi   # died, or the plan did not match
    printf '  %-40s as %-12s %4d ok %4d failed\n' "$name" "${role:-postgres}" "$t_ok" "$t_fail"
    [ "$t_fail" -gt 0 ] && grep -vE '^ok [0-9]+' "$out/tap-$name.log" | head -60
    passed=$((passed + t_ok)); failed=$((failed + t_fail))
  done
fi

# --- 3. harness checks -----------------------------------------------------------
for name in $LM_CHECKS; do
  # in the second pass, the checks that read no server time and no new C path are not run again
  if [ -n "${3:-}" ] && [[ " $LM_CLOCK_ONCE " == *" $name "* ]]; then
    echo "  # $name: run by the first pass only"; continue
  fi
  c=$LM_TOP/test/harness/checks/$name.sh
  lm_say "check $(basename "$c")$mark"
  bash "$c" >"$out/check-$(basename "$c").log" 2>&1
  rc=$?
  sed 's/^/  /' "$out/check-$(basename "$c").log" | grep -E '^  (ok|not ok|#)' 
  c_ok=$(grep -cE '^ok ' "$out/check-$(basename "$c").log")
  c_fail=$(grep -cE '^not ok ' "$out/check-$(basename "$c").log")
  if [ $rc -ne 0 ] && [ "$c_fail" -eq 0 ]; then
    c_fail=1; tail -30 "$out/check-$(basename "$c").log"
  fi
  passed=$((passed + c_ok)); failed=$((failed + c_fail))
done


# --- 4. sanitizer findings (make test SANITIZE=...) ----------------------------------
if [ -n "${SANITIZE:-}" ]; then
  n=$(cat "$LM_BASE/$cluster"/sanitizer.* 2>/dev/null | grep -cE 'runtime error:|ERROR: AddressSanitizer')
  if [ "$n" -eq 0 ]; then
    echo "  ok - no sanitizer finding (SANITIZE=$SANITIZE) in the server's processes"; passed=$((passed + 1))
  else
    echo "  not ok - $n sanitizer findings ($SANITIZE):"; failed=$((failed + 1))
    cat "$LM_BASE/$cluster"/sanitizer.* | grep -E -A8 'runtime error:|ERROR: AddressSanitizer' | head -60
  fi
fi
}

if [ -n "${FAKETIME:-}" ]; then
  suite test "$FAKETIME"
else
  suite test ""
  if [ "${CLOCK_PASS:-1}" != 0 ] && [ -z "${VALGRIND:-}" ]; then
    # the second pass also runs the library built with UBSan (SANITIZE=1), so
    # that CI catches undefined behaviour too; CLOCK_UBSAN=0 leaves it plain
    if [ -z "${SANITIZE:-}" ] && [ "${CLOCK_UBSAN:-1}" != 0 ]; then
      export SANITIZE=1
      lm_say "building the library with UBSan for the second pass"
      if ! (cd "$LM_TOP" && make --no-print-directory -s all >"$out_top/ubsan-build.log" 2>&1 &&
            "$LM_TOP/test/harness/install.sh" make >>"$out_top/ubsan-build.log" 2>&1); then
        tail -20 "$out_top/ubsan-build.log"; failed=$((failed + 1))
      fi
    fi
    suite test-clock +3y second
  fi
fi

echo
echo "logs: $out_top (clusters left running; 'make stop' removes them)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
