#!/usr/bin/env bash
# pg_dump of a database with the extension, restored into an empty one, keeps
# every row, the grants, and the numbering of new rows.
source "$(dirname "$0")/lib.sh"
src=lm_dump_src
dropdb --if-exists "$src"; dropdb --if-exists lm_restored; createdb "$src"
psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$src" -v scale=0.01 -v seed=9 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting')" >/dev/null
check "source database loaded" [ $? -eq 0 ]
table_counts "$src" >"$LM_TMP/src.counts"

pg_dump -Fc -d "$src" -f "$LM_TMP/dump" && createdb lm_restored && pg_restore -d lm_restored --exit-on-error "$LM_TMP/dump"
check "pg_dump and pg_restore succeed" [ $? -eq 0 ]
table_counts lm_restored >"$LM_TMP/restored.counts"
if diff "$LM_TMP/src.counts" "$LM_TMP/restored.counts" >/dev/null && [ -s "$LM_TMP/src.counts" ]; then
  ok "every row of every table is restored ($(awk '{s+=$2} END {print s}' "$LM_TMP/restored.counts") rows)"
else
  not_ok "every row of every table is restored"; diff "$LM_TMP/src.counts" "$LM_TMP/restored.counts" | sed 's/^/# /'
fi
check "restored data is identical, not just as many rows (leads and orders compared)" [ \
  "$(psql -X -At -d "$src" -c "SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM leadmgmt.lead l")" = \
  "$(psql -X -At -d lm_restored -c "SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM leadmgmt.lead l")" ]
if [ "$(psql -X -At -d lm_restored -c \
  "SELECT count(*) FROM leadmgmt.access_grant WHERE role_name = 'lm_bi'")" = 1 ] \
  && [ "$(psql -X -At -d lm_restored -c "SELECT has_table_privilege('lm_bi', 'leadmgmt.course', 'SELECT')")" = t ]; then
  ok "access grants and privileges are restored"
else
  not_ok "access grants and privileges are restored"
fi
# Since 0.11 the tables are ordinary tables: a restore runs CREATE EXTENSION
# (code only), then creates the dumped tables, views and policies, so the
# restored catalog is the source's, and install() has nothing left to do.
# (pg_dump leaves out an ACL equal to the owner's default: lead's, whose
# column grants made it explicit; it is the same privileges either way)
for db in "$src" lm_restored; do
  psql -X -q -d "$db" -f "$LM_TOP/test/harness/catalog.sql" | sed -E 's/ acl=\{postgres=arwdDxt\/postgres\} rls=/ acl= rls=/' >"$LM_TMP/$db.cat"
done
check "the restored catalog equals the source's ($(wc -l <"$LM_TMP/$src.cat") lines: tables, views, policies, triggers, grants, comments)" \
  cmp -s "$LM_TMP/$src.cat" "$LM_TMP/lm_restored.cat"
diff "$LM_TMP/$src.cat" "$LM_TMP/lm_restored.cat" | head -10 | sed 's/^/# /'
check "after the restore install() finds the schema up to date" \
  grep -q '^schema .* is up to date$' <<<"$(psql -X -At -d lm_restored -c "SELECT leadmgmt.install()")"
# The restored database has another name, so another group role tag
# (access.c): install() made lm_bi a member of its grant's group again, and it
# sees exactly what it saw in the source.
seen() { psql -X -q -At -d "$1" -c "SET ROLE lm_bi" -c "SELECT count(*) || '/' || count(DISTINCT org_id) FROM leadmgmt.lead"; }
check "a reporting role sees the same leads after the restore as before ($(seen "$src"))" [ "$(seen "$src")" = "$(seen lm_restored)" ]
# The engine state is dumped with the rest (since 0.11) and still matches the
# rows after the first engine call.  The engine acts at the org's clock
# (report_as_of), which rep_workload reads too.
psql -X -q -At -d lm_restored -c "SELECT count(*) FROM leadmgmt.org o, leadmgmt.assign_pending(1, 20, at => o.report_as_of) WHERE o.org_id = 1" >/dev/null
check "after a restore the engine state matches the rows: each rep's open leads and today's assignments match the rows" [ \
  "$(psql -X -At -d lm_restored -c "SELECT leadmgmt.rep_load_sync(o, o.report_as_of) FROM leadmgmt.org o WHERE org_id = 1" \
      -c "SELECT count(*) FILTER (WHERE l.open_leads = w.open_leads AND l.assigned_today = w.assigned_today), count(*)
            FROM leadmgmt.rep_load l JOIN leadmgmt.rep_workload w USING (org_id, rep_id)" | tail -1)" = \
  "$(psql -X -At -d lm_restored -c "SELECT count(*) || '|' || count(*) FROM leadmgmt.sales_rep WHERE org_id = 1")" ]
check "new leads are numbered after the restored ones" [ "$(psql -X -At -d lm_restored -c \
  "SELECT lead_id > (SELECT max(lead_id) FROM leadmgmt.lead WHERE lead_id < 1000000000) FROM leadmgmt.ingest_lead(1, '13988887777', 'douyin', NULL, now())")" = t ]
dropdb "$src"; dropdb lm_restored
