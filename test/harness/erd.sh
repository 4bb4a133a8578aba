#!/usr/bin/env bash
# test/harness/erd.sh -- 'make erd': regenerate docs/er.svg from the live
# catalog of a fresh install, with postgresql-autodoc and graphviz.
source "$(dirname "$0")/common.sh"
"$LM_TOP/test/harness/deps.sh" erd
"$LM_TOP/test/harness/cluster.sh" ensure docs
source "$LM_BASE/docs/env"
db=leadmgmt_erd
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -d "$db" -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()'
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && postgresql_autodoc -d "$db" -h "$PGHOST" -p "$PGPORT" -u postgres -s leadmgmt -t dot -f leadmgmt >/dev/null)
dot -Tsvg "$tmp/leadmgmt.dot" -o "$LM_TOP/docs/er.svg"
dropdb "$db"
echo "wrote docs/er.svg ($(grep -c '<g id="node' "$LM_TOP/docs/er.svg") tables)"
