#!/usr/bin/env bash
# Real concurrent sessions (pgbench).  32 clients ingest 100,000 leads; most
# assign each new lead at once (assign_lead), some leave it in the public pool,
# and some assign the pool in batches (assign_pending).  Afterwards every lead
# is assigned exactly once, the 10 equal reps are at most one lead apart, and
# no client saw an error (a deadlock or serialization failure would be one).
# Then a backend is killed in the middle of a big assign_pending: every lead
# is fully assigned with its history, or still in the pool.
source "$(dirname "$0")/lib.sh"
db=lm_assign_race
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" \
  -c "SELECT leadmgmt.create_org('Assign Race School')" -c "SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid')" \
  -c "INSERT INTO leadmgmt.sales_rep (org_id, name, role, daily_cap, holding_cap)
      SELECT 1, 'rep ' || g, 'sales', 1000000, 1000000 FROM generate_series(1, 10) g" \
  -c "CREATE SEQUENCE public.phone_seq" >/dev/null
cat >"$LM_TMP/ingest_assign.sql" <<'SQL'
SELECT leadmgmt.assign_lead(1, (SELECT lead_id FROM leadmgmt.ingest_lead(1,
  '138' || lpad(nextval('public.phone_seq')::text, 8, '0'), 'douyin', NULL, now())));
SQL
cat >"$LM_TMP/ingest_only.sql" <<'SQL'
SELECT lead_id FROM leadmgmt.ingest_lead(1, '138' || lpad(nextval('public.phone_seq')::text, 8, '0'), 'douyin', NULL, now());
SQL
cat >"$LM_TMP/batch.sql" <<'SQL'
SELECT leadmgmt.ingest_lead(1, '138' || lpad(nextval('public.phone_seq')::text, 8, '0'), 'douyin', NULL, now());
SELECT count(*) FROM leadmgmt.assign_pending(1, 50);
SQL
start=$(date +%s)
"$LM_PGBIN/pgbench" -n -c 32 -j 4 -t 3125 -f "$LM_TMP/ingest_assign.sql@6" -f "$LM_TMP/ingest_only.sql@3" \
  -f "$LM_TMP/batch.sql@1" "$db" >"$LM_TMP/pgbench.log" 2>&1
rc=$?
grep -E 'transactions actually processed|failed|tps' "$LM_TMP/pgbench.log" | sed 's/^/# /'
echo "# $(( $(date +%s) - start )) s"
if [ $rc -eq 0 ] && grep -q 'number of transactions actually processed: 100000/100000' "$LM_TMP/pgbench.log"; then
  ok "32 concurrent clients ingested 100,000 leads, assigning one by one and in batches, without an error"
else
  not_ok "32 concurrent clients ingested 100,000 leads, assigning one by one and in batches, without an error"
fi
q() { psql -X -At -d "$db" -c "$1"; }
# what the batches left behind (leads ingested after the last batch) is assigned now
q "SELECT count(*) FROM leadmgmt.assign_pending(1, 100000)" >/dev/null
check "every lead is assigned exactly once: 100,000 leads, all private, one assignment row each" \
  [ "$(q "SELECT (SELECT count(*) FROM leadmgmt.lead) || '/' || (SELECT count(*) FROM leadmgmt.lead WHERE pool = 'private')
             || '/' || (SELECT count(*) FROM leadmgmt.assignment) || '/' || (SELECT count(DISTINCT lead_id) FROM leadmgmt.assignment)
             || '/' || (SELECT count(*) FROM leadmgmt.lead l JOIN leadmgmt.assignment a USING (org_id, lead_id)
                         WHERE a.rep_id = l.owner_rep_id AND a.released_at IS NULL)")" = "100000/100000/100000/100000/100000" ]
spread=$(q "SELECT max(c) - min(c) FROM (SELECT count(*) c FROM leadmgmt.assignment GROUP BY rep_id) x")
check "equal weights: the 10 reps are at most one lead apart after 100,000 assignments (spread $spread)" [ "$spread" -le 1 ]
# a call's leads share its assigned_at: single calls leave groups of one, batches larger ones
check "both ways of assigning were used (one by one and in batches)" \
  [ "$(q "SELECT count(*) FILTER (WHERE n = 1) > 0 AND count(*) FILTER (WHERE n > 1) > 0
            FROM (SELECT count(*) AS n FROM leadmgmt.assignment GROUP BY assigned_at) x")" = t ]
check "the engine's counters equal the rows (open leads and today's assignments of every rep)" \
  [ "$(q "SELECT leadmgmt.rep_load_sync(o, now()) FROM leadmgmt.org o" >/dev/null;
       q "SELECT count(*) FROM leadmgmt.rep_load l JOIN leadmgmt.rep_workload w USING (org_id, rep_id)
           WHERE l.open_leads = w.open_leads AND l.assigned_today = w.assigned_today")" = 10 ]

# kill a backend in the middle of assigning 60,000 leads in one call
q "INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
   SELECT 1, 1, 1, now(), now() FROM generate_series(1, 60000)" >/dev/null
before=$(q "SELECT count(*) FROM leadmgmt.assignment")
psql -X -q -d "$db" -c "SET application_name = 'lm_victim'" -c "SELECT count(*) FROM leadmgmt.assign_pending(1, 60000)" \
  >"$LM_TMP/victim.log" 2>&1 &
victim=$!
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lm_victim' AND query LIKE '%assign_pending%' AND state = 'active'")" = 1 ] && break
  sleep 0.05
done
sleep 0.3
killed=$(q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lm_victim' AND state = 'active'")
wait $victim
if [ "$killed" = t ] && grep -q 'terminat' "$LM_TMP/victim.log"; then
  ok "the backend was killed in the middle of assign_pending"
else
  not_ok "the backend was killed in the middle of assign_pending"
fi
if [ "$(q "SELECT count(*) FROM leadmgmt.lead l
           WHERE (l.pool = 'private') <> EXISTS (SELECT 1 FROM leadmgmt.assignment a
                                                  WHERE a.org_id = l.org_id AND a.lead_id = l.lead_id AND a.released_at IS NULL
                                                    AND a.rep_id = l.owner_rep_id)")" = 0 ] \
  && [ "$(q "SELECT count(*) FROM leadmgmt.assignment")" = "$before" ]; then
  ok "after the kill every lead is fully assigned with its history, or still in the pool without any"
else
  not_ok "after the kill every lead is fully assigned with its history, or still in the pool without any"
fi
if [ "$(q "SELECT count(*) FROM leadmgmt.assign_pending(1, 60000)")" = 60000 ] \
  && [ "$(q "SELECT max(c) - min(c) <= 1 FROM (SELECT count(*) c FROM leadmgmt.assignment GROUP BY rep_id) x")" = t ]; then
  ok "the pool is assigned after the kill as if nothing happened: 160,000 leads, spread at most one"
else
  not_ok "the pool is assigned after the kill as if nothing happened: 160,000 leads, spread at most one"
fi

# recycle_stale while another transaction holds one of the due leads: that
# lead waits for the next run, every other is recycled at once (since 0.13
# the due leads are locked in a statement of their own)
rm -f "$LM_TMP/locked" "$LM_TMP/go"
cat >"$LM_TMP/holder.sql" <<SQL
BEGIN;
SELECT lead_id FROM leadmgmt.lead WHERE org_id = 1 ORDER BY lead_id LIMIT 1 FOR UPDATE;
\\! touch $LM_TMP/locked
\\! for i in \$(seq 1 600); do [ -e $LM_TMP/go ] && break; sleep 0.1; done
COMMIT;
SQL
psql -X -q -At -d "$db" -f "$LM_TMP/holder.sql" >"$LM_TMP/holder.log" 2>&1 &
holder=$!
for _ in $(seq 1 600); do [ -e "$LM_TMP/locked" ] && break; sleep 0.1; done
held=$(q "SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 1")
first=$(q "SELECT count(*) || '/' || count(*) FILTER (WHERE lead_id = $held) FROM leadmgmt.recycle_stale(1, now() + interval '400 days')")
touch "$LM_TMP/go"; wait $holder
second=$(q "SELECT string_agg(lead_id::text, ',') FROM leadmgmt.recycle_stale(1, now() + interval '400 days')")
check "recycle_stale skips the lead another transaction holds and recycles the other 159,999; the next run takes it ($first; $second)" \
  [ "$first|$second|$(q "SELECT count(*) FILTER (WHERE pool = 'private') || '/' || (SELECT count(*) FROM leadmgmt.assignment WHERE released_at IS NULL) FROM leadmgmt.lead")" = "159999/0|$held|0/0" ]
dropdb "$db"
