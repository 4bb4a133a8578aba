#!/usr/bin/env bash
# Every ```sql example in docs/ runs, as written, against a database with the
# demo brand (org 1), each block in its own transaction that is rolled back.
source "$(dirname "$0")/lib.sh"
db=lm_docs
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.01 -f "$LM_TOP/test/demo/generate.sql" >/dev/null
check "docs database loaded" [ $? -eq 0 ]
n=0
while IFS= read -r md; do
  # split the file's sql blocks into numbered files
  awk -v dir="$LM_TMP" -v base="$(basename "$md" .md)" '
    /^```sql/ {inblock = 1; k++; f = dir "/" base "." k ".sql"; next}
    /^```/ && inblock {inblock = 0; next}
    inblock {print > f}' "$md"
done < <(find "$LM_TOP/docs" -name '*.md' | sort)
for f in "$LM_TMP"/*.sql; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  name=$(basename "$f" .sql)
  if { echo 'BEGIN;'; sed 's/^\(BEGIN\|COMMIT\);$/-- &/' "$f"; echo 'ROLLBACK;'; } |
       psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null 2>"$LM_TMP/err"; then
    ok "docs example $name runs"
  else
    not_ok "docs example $name runs"; sed 's/^/# /' "$LM_TMP/err" | head -5
  fi
done
check "docs hold sql examples ($n found)" [ "$n" -ge 15 ]
# the SECURITY DEFINER functions docs/dba/security.md lists are those of the catalog
documented=$(sed -n 's/^ *SECURITY DEFINER: //p' "$LM_TOP/docs/dba/security.md" | grep -o '`[a-z_]*`' | tr -d '`' | sort -u | paste -sd' ')
catalog=$(psql -X -At -d "$db" -c "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'leadmgmt'::regnamespace AND prosecdef ORDER BY 1" | sort -u | paste -sd' ')
if [ -n "$documented" ] && [ "$documented" = "$catalog" ]; then
  ok "docs/dba/security.md lists exactly the catalog's SECURITY DEFINER functions ($(wc -w <<<"$catalog"))"
else
  not_ok "docs/dba/security.md lists exactly the catalog's SECURITY DEFINER functions"; echo "# docs:    $documented"; echo "# catalog: $catalog"
fi
dropdb "$db"
