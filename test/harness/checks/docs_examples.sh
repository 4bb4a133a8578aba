#!/usr/bin/env bash
# Every ```sql example in docs/ runs, as written, against a database with the
# demo brand (org 1), each block in its own transaction that is rolled back;
# docs/getting-started.md runs whole, in one session, on a fresh database.
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
done < <(find "$LM_TOP/docs" -name '*.md' ! -name getting-started.md | sort)
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
# getting-started.md: from an empty database, every block in order, one session
# (its role is the cluster's: made and dropped here)
gs=lm_getting_started
dropdb --if-exists "$gs"; psql -X -q -d postgres -c 'DROP ROLE IF EXISTS sunflower_app' 2>/dev/null; createdb "$gs"
awk '/^```sql/ {on = 1; next} /^```/ && on {on = 0; next} on' "$LM_TOP/docs/getting-started.md" >"$LM_TMP/getting-started.sql"
if psql -X -v ON_ERROR_STOP=1 -d "$gs" -f "$LM_TMP/getting-started.sql" >"$LM_TMP/getting-started.out" 2>"$LM_TMP/err"; then
  ok "docs/getting-started.md runs on a fresh database ($(grep -c . "$LM_TMP/getting-started.sql") lines)"
else
  not_ok "docs/getting-started.md runs on a fresh database"; sed 's/^/# /' "$LM_TMP/err" | head -5
fi
# ... and ends with the three reports, each with rows (a funnel reaching paid,
# ROI by channel, churned and renewed terms)
check "getting-started: the funnel reaches paid" grep -qE '^ +7 \| paid +\| +[1-9]' "$LM_TMP/getting-started.out"
check "getting-started: ROI rows for each channel" [ "$(grep -cE '^ 20[0-9-]+ +\| (baidu|douyin|referral) ' "$LM_TMP/getting-started.out")" -ge 6 ]
check "getting-started: terms churned and renewed" grep -qE '^ renewed +\| +[1-9]' "$LM_TMP/getting-started.out"
dropdb "$gs"; psql -X -q -d postgres -c 'DROP ROLE IF EXISTS sunflower_app'
# the SECURITY DEFINER functions docs/dba/security.md lists are those of the catalog
documented=$(sed -n 's/^ *SECURITY DEFINER: //p' "$LM_TOP/docs/dba/security.md" | grep -o '`[a-z_]*`' | tr -d '`' | sort -u | paste -sd' ')
catalog=$(psql -X -At -d "$db" -c "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'leadmgmt'::regnamespace AND prosecdef ORDER BY 1" | sort -u | paste -sd' ')
if [ -n "$documented" ] && [ "$documented" = "$catalog" ]; then
  ok "docs/dba/security.md lists exactly the catalog's SECURITY DEFINER functions ($(wc -w <<<"$catalog"))"
else
  not_ok "docs/dba/security.md lists exactly the catalog's SECURITY DEFINER functions"; echo "# docs:    $documented"; echo "# catalog: $catalog"
fi
dropdb "$db"
