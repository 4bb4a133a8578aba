#!/usr/bin/env bash
# Decisions that lose the race for the journal decide again on the state they
# read, brought up to date with the rows that came first (JournalCatchUp);
# they read everything again when a row they counted has rolled back since.
# Real concurrent sessions (pgbench, 24 clients) exercise both:
#   - without rollbacks, every decision counted every other one, so the 6
#     equal reps are at most one lead apart right after the run, with no
#     batch to even them out;
#   - with a quarter of the transactions rolling back (single leads and
#     batches), every lead is assigned exactly once or still in the pool
#     without history, nobody saw an error, the counters equal the rows, and
#     the reps are one apart once the picks the rollbacks left owed are made.
# The sessions run with leadmgmt.verify_catch_up on: every state brought up
# to date is compared with the state read anew (an error if they differ).
source "$(dirname "$0")/lib.sh"
db=lm_assign_rollbacks
dropdb --if-exists "$db"; createdb "$db"
q() { psql -X -At -d "$db" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" \
  -c "SELECT leadmgmt.create_org('Rollback School')" -c "SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid')" \
  -c "INSERT INTO leadmgmt.sales_rep (org_id, name, role, daily_cap, holding_cap)
      SELECT 1, 'rep ' || g, 'sales', 1000000, 1000000 FROM generate_series(1, 6) g" \
  -c "INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
      SELECT 1, 1, 1, now(), now() FROM generate_series(1, 12000)" \
  -c "CREATE SEQUENCE public.next_lead" >/dev/null
spread() { q "SELECT max(c) - min(c) FROM (SELECT count(*) c FROM leadmgmt.assignment
                                          WHERE released_at IS NULL GROUP BY rep_id) x"; }

echo "SELECT leadmgmt.assign_lead(1, nextval('public.next_lead'));" >"$LM_TMP/one.sql"
export PGOPTIONS='-c leadmgmt.verify_catch_up=on'
"$LM_PGBIN/pgbench" -n -c 24 -j 4 -t 200 -f "$LM_TMP/one.sql" "$db" >"$LM_TMP/one.log" 2>&1
rc=$?
grep -E 'transactions actually processed' "$LM_TMP/one.log" | sed 's/^/# /'
if [ $rc -eq 0 ] && grep -q 'number of transactions actually processed: 4800/4800' "$LM_TMP/one.log"; then
  ok "24 clients assigned 4,800 leads one per transaction without an error"
else
  not_ok "24 clients assigned 4,800 leads one per transaction without an error"
fi
s=$(spread)
if [ "$s" -le 1 ] && [ "$(q "SELECT count(*) FROM leadmgmt.assignment")" = 4800 ]; then
  ok "every decision counted every other: the 6 equal reps are at most one lead apart right after the run (spread $s)"
else
  not_ok "every decision counted every other: the 6 equal reps are at most one lead apart right after the run (spread $s)"
fi

# a quarter of the transactions roll back, single leads and batches of three
cat >"$LM_TMP/one_rb.sql" <<'SQL'
\set r random(1, 4)
BEGIN;
SELECT leadmgmt.assign_lead(1, nextval('public.next_lead'));
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
SQL
cat >"$LM_TMP/batch_rb.sql" <<'SQL'
\set r random(1, 4)
BEGIN;
SELECT count(*) FROM leadmgmt.assign_pending(1, 3);
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
SQL
"$LM_PGBIN/pgbench" -n -c 24 -j 4 -t 200 -f "$LM_TMP/one_rb.sql@9" -f "$LM_TMP/batch_rb.sql@1" "$db" >"$LM_TMP/rb.log" 2>&1
rc=$?
grep -E 'transactions actually processed' "$LM_TMP/rb.log" | sed 's/^/# /'
if [ $rc -eq 0 ] && grep -q 'number of transactions actually processed: 4800/4800' "$LM_TMP/rb.log"; then
  ok "24 clients assigned with a quarter of the transactions rolling back, without an error"
else
  not_ok "24 clients assigned with a quarter of the transactions rolling back, without an error"
fi
echo "# leads handed out but public after their rollback: $(q "SELECT count(*) FROM leadmgmt.lead
          WHERE pool = 'public' AND lead_id <= (SELECT last_value FROM public.next_lead)")"
check "every lead is assigned exactly once (private, one history row naming its owner) or public without history" \
  [ "$(q "SELECT count(*) FILTER (WHERE NOT ok) FROM (
            SELECT CASE WHEN l.pool = 'private' THEN coalesce(a.n = 1 AND a.rep_id = l.owner_rep_id AND a.open = 1, false)
                        ELSE a.n IS NULL END AS ok
              FROM leadmgmt.lead l
              LEFT JOIN (SELECT lead_id, count(*) AS n, max(rep_id) AS rep_id,
                                count(*) FILTER (WHERE released_at IS NULL) AS open
                           FROM leadmgmt.assignment GROUP BY lead_id) a USING (lead_id)) x")" = 0 ]
check "after the rollbacks the engine's counters equal the rows" \
  [ "$(q "SELECT leadmgmt.rep_load_sync(o, now()) FROM leadmgmt.org o" >/dev/null;
       q "SELECT count(*) FROM leadmgmt.rep_load l JOIN leadmgmt.rep_workload w USING (org_id, rep_id)
           WHERE l.open_leads = w.open_leads AND l.assigned_today = w.assigned_today")" = 6 ]
unset PGOPTIONS
# the picks of the last transactions that rolled back are owed to their reps
q "SELECT count(*) FROM leadmgmt.assign_pending(1, 60)" >/dev/null
s=$(spread)
check "the reps are one apart again once the owed picks are made (spread $s)" [ "$s" -le 1 ]
dropdb "$db"
