# test/harness/checks/lib.sh -- sourced by the checks: the test cluster's
# environment and TAP-style reporting.
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
set +e
source "$LM_BASE/${LM_CLUSTER:-test}/env"
LM_TMP=$(mktemp -d)
trap 'rm -rf "$LM_TMP"' EXIT

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check()  { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# row counts of every leadmgmt table, one 'table count' line each
table_counts() {
  psql -X -At -d "$1" -c "SELECT c.relname || ' ' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM leadmgmt.%I', c.relname), false, true, '')))[1]::text
    FROM pg_class c WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r' ORDER BY 1"
}
